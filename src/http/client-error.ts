import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import { PROBLEM_CONTENT_TYPE } from './problem-details.js'

const ANSWERS: Record<string, { status: number, code: string, detail: string }> = {
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, code: 'PARASCAN_REQUEST_TIMEOUT', detail: 'The request was not received in time (PARASCAN_REQUEST_TIMEOUT)' },
  ERR_HTTP_HEADERS_TIMEOUT: { status: 408, code: 'PARASCAN_REQUEST_TIMEOUT', detail: 'The request headers were not received in time (PARASCAN_HEADERS_TIMEOUT)' },
  HPE_HEADER_OVERFLOW: { status: 431, code: 'PARASCAN_HEADERS_TOO_LARGE', detail: 'The request line and headers are larger than the server accepts' }
}

/**
 * Answers the errors that Node's HTTP parser and timers find before any route runs (slow or
 * oversized requests, bad framing) with problem+json on the raw socket, and closes it.
 */
export function clientErrorHandler (error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  const answer = ANSWERS[error.code ?? ''] ?? { status: 400, code: 'PARASCAN_BAD_REQUEST', detail: 'The request is not valid HTTP' }
  const title = STATUS_CODES[answer.status] ?? 'Error'
  const body = JSON.stringify({ type: `urn:parascan:problem:${answer.code}`, title, status: answer.status, detail: answer.detail, code: answer.code })
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${answer.status} ${title}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
  }
  socket.destroy()
}
