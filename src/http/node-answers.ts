import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { ExpectationFailedError, NotFoundError } from '../errors.js'
import { problemOf, PROBLEM_CONTENT_TYPE } from './problem-details.js'
import { answerAndClose, rawProblemResponse } from './raw-problem.js'

/**
 * Answers with problem+json what Node would answer on its own, before Fastify sees a request:
 * an `Expect` other than 100-continue (417) and CONNECT (no route; the socket is closed).
 */
export function answerOutsideFastify (server: Server): void {
  server.on('checkExpectation', (request: IncomingMessage, response: ServerResponse) => {
    const body = JSON.stringify(problemOf(new ExpectationFailedError(String(request.headers.expect).slice(0, 100)), (request.url ?? '').split('?')[0]))
    response.writeHead(417, { 'content-type': PROBLEM_CONTENT_TYPE, 'content-length': Buffer.byteLength(body), connection: 'close' })
    response.end(body)
  })
  server.on('connect', (request: IncomingMessage, socket: Socket) => {
    answerAndClose(socket, rawProblemResponse(new NotFoundError(`No route CONNECT ${String(request.url).slice(0, 200)}`)))
  })
}
