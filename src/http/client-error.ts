import type { Socket } from 'node:net'
import { BadRequestError, HeadersTooLargeError, RequestTimeoutError } from '../errors.js'
import { answerAndClose, rawProblemResponse } from './raw-problem.js'

/** The answers to the errors of Node's HTTP parser and timers, written once. */
const ANSWERS: Readonly<Record<string, string>> = {
  ERR_HTTP_REQUEST_TIMEOUT: rawProblemResponse(new RequestTimeoutError('The request was not received in time (PARASCAN_REQUEST_TIMEOUT)')),
  ERR_HTTP_HEADERS_TIMEOUT: rawProblemResponse(new RequestTimeoutError('The request headers were not received in time (PARASCAN_HEADERS_TIMEOUT)')),
  HPE_HEADER_OVERFLOW: rawProblemResponse(new HeadersTooLargeError())
}
const NOT_HTTP = rawProblemResponse(new BadRequestError('The request is not valid HTTP'))

/**
 * Answers the errors that Node's HTTP parser and timers find before any route runs (slow or
 * oversized requests, bad framing) with problem+json on the raw socket, and closes it.
 */
export function clientErrorHandler (error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  answerAndClose(socket, ANSWERS[error.code ?? ''] ?? NOT_HTTP)
}
