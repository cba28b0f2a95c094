import type { Server } from 'node:http'
import type { Socket } from 'node:net'
import { TooManyConnectionsError } from '../errors.js'
import { answerAndClose, rawProblemResponse } from './raw-problem.js'

/**
 * Lets at most `max` connections reach the HTTP server. One more gets a fixed 503 problem+json
 * (PARASCAN_TOO_MANY_CONNECTIONS, Retry-After) written at once, and is destroyed without being read.
 */
export function capConnections (server: Server, max: number, retryAfterSeconds = 1): void {
  const refusal = rawProblemResponse(new TooManyConnectionsError(max), { 'Retry-After': String(retryAfterSeconds) })
  const listeners = server.listeners('connection') as Array<(socket: Socket) => void>
  server.removeAllListeners('connection')
  let open = 0
  server.on('connection', (socket: Socket) => {
    if (open >= max) {
      answerAndClose(socket, refusal)
      return
    }
    open++
    socket.once('close', () => { open-- })
    for (const listener of listeners) listener.call(server, socket)
  })
}
