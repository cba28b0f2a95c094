import type { Socket } from 'node:net'
import { PROBLEM_CONTENT_TYPE, problemOf, type CatalogueError } from './problem-details.js'

/** A whole HTTP/1.1 answer that carries `error` as problem+json and closes the connection. */
export function rawProblemResponse (error: CatalogueError, headers: Readonly<Record<string, string>> = {}): string {
  const problem = problemOf(error)
  const body = JSON.stringify(problem)
  const lines = [`HTTP/1.1 ${problem.status} ${problem.title}`, `Content-Type: ${PROBLEM_CONTENT_TYPE}`,
    `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close', ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)]
  return `${lines.join('\r\n')}\r\n\r\n${body}`
}

/** Writes `answer` on a socket no request of which is being answered, and destroys it: nothing waits for the peer. */
export function answerAndClose (socket: Socket, answer: string): void {
  if (socket.writable) socket.end(answer)
  socket.destroy()
}
