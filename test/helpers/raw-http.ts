import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { isServiceCode } from '../../src/error-codes.js'

export interface RawAnswer {
  status: number
  /** Header names in lower case. */
  headers: Record<string, string>
  body: string
}

/** The first final response in `bytes` (a 100 Continue before it is passed over), once all of it (by Content-Length) is there. */
export function firstAnswer (bytes: Buffer, head = false): RawAnswer | undefined {
  const end = bytes.indexOf('\r\n\r\n')
  if (end === -1) return undefined
  if (/^HTTP\/1\.1 1\d\d /.test(bytes.subarray(0, 13).toString('latin1'))) return firstAnswer(bytes.subarray(end + 4), head)
  const [statusLine, ...lines] = bytes.subarray(0, end).toString('latin1').split('\r\n')
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  const length = head ? 0 : Number(headers['content-length'] ?? 0)
  const body = bytes.subarray(end + 4)
  if (body.length < length) return undefined
  return { status: Number(statusLine.split(' ')[1]), headers, body: body.subarray(0, length).toString('utf8') }
}

/**
 * Writes `request` (any bytes, valid HTTP or not) on a new connection to `url` and reads until the
 * first answer is whole or the server closes; undefined when the server closed without one.
 */
export async function rawRequest (url: string, request: string | Buffer, options: { head?: boolean, timeoutMs?: number } = {}): Promise<RawAnswer | undefined> {
  const { hostname, port } = new URL(url)
  return await new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname)
    let bytes = Buffer.alloc(0)
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`no answer within ${options.timeoutMs ?? 15_000} ms to ${JSON.stringify(String(request).slice(0, 200))}`)) }, options.timeoutMs ?? 15_000)
    const done = (): void => { clearTimeout(timer); socket.destroy(); resolve(firstAnswer(bytes, options.head)) }
    socket.on('data', (chunk: Buffer) => {
      bytes = Buffer.concat([bytes, chunk])
      if (firstAnswer(bytes, options.head) !== undefined) done()
    })
    socket.on('close', done)
    socket.on('error', done)
    socket.write(request)
  })
}

/** An error answer is problem+json with a code of the catalogue and its own status; a 503 says when to retry. */
export function assertProblemAnswer (answer: RawAnswer | undefined, what: string, head = false): void {
  assert.ok(answer !== undefined, `${what}: no answer`)
  if (answer.status < 400) return
  if (answer.status === 503) assert.match(answer.headers['retry-after'] ?? '', /^\d+$/, `${what}: a 503 has Retry-After`)
  if (head) return
  assert.match(answer.headers['content-type'] ?? '', /^application\/problem\+json/, `${what} → ${answer.status} ${answer.body.slice(0, 200)}`)
  const problem = JSON.parse(answer.body) as { status: number, code: string, detail: string }
  assert.equal(problem.status, answer.status, what)
  assert.ok(isServiceCode(problem.code), `${what}: ${problem.code} is a code of the catalogue`)
  assert.equal(typeof problem.detail, 'string')
}
