import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { fileURLToPath } from 'node:url'
import { serverStarter } from '../helpers/scan-client.js'
import { REDIS_URL, uniquePrefix } from '../helpers/service-harness.js'
import { assertProblemAnswer, firstAnswer, rawRequest } from '../helpers/raw-http.js'

const PROCESSORS_DIR = fileURLToPath(new URL('../fixtures/processors/', import.meta.url))
const { start } = serverStarter()
const KEY = 'answer-paths-key-0123'
const ADMIN = `Basic ${Buffer.from('admin:answer-paths-admin-0123').toString('base64')}`

function post (path: string, body: string, headers = ''): string {
  return `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${headers}\r\n${body}`
}

test('every way to an answer gives problem+json with a code of the catalogue: Node\'s own answers, Fastify\'s, the dashboard, the metrics token, the rate limit and plug-ins (Redis)', async () => {
  const server = await start({
    REDIS_URL,
    PARASCAN_KEY_PREFIX: uniquePrefix(),
    PROCESSORS_DIR,
    PARASCAN_API_KEYS: `t:${KEY}`,
    PARASCAN_ADMIN_CREDENTIALS: 'admin:answer-paths-admin-0123',
    PARASCAN_METRICS_TOKEN: 'answer-paths-token',
    PARASCAN_RATE_LIMIT: '40',
    PARASCAN_RATE_LIMIT_WINDOW: '1m',
    BODY_LIMIT: '2048'
  })
  const auth = `Authorization: Bearer ${KEY}\r\n`
  const cases: Array<[string, string, number, string]> = [
    ['an Expect other than 100-continue', post('/v1/scans', '{}', `${auth}Expect: 200-ok\r\n`), 417, 'PARASCAN_EXPECTATION_FAILED'],
    ['CONNECT', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 404, 'PARASCAN_NOT_FOUND'],
    ['HTTP/1.1 without Host', 'GET /healthz HTTP/1.1\r\n\r\n', 400, 'PARASCAN_BAD_REQUEST'],
    ['a method Node does not know', 'BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'PARASCAN_BAD_REQUEST'],
    ['Transfer-Encoding with Content-Length', 'POST /v1/scans HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n', 400, 'PARASCAN_BAD_REQUEST'],
    ['headers over 16 KiB', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`, 431, 'PARASCAN_HEADERS_TOO_LARGE'],
    ['an unknown route', 'GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n', 404, 'PARASCAN_NOT_FOUND'],
    ['an undecodable URL', `GET /v1/scans/%zz HTTP/1.1\r\nHost: x\r\n${auth}\r\n`, 400, 'PARASCAN_BAD_REQUEST'],
    ['a scan id over the router\'s length', `GET /v1/scans/${'a'.repeat(600)} HTTP/1.1\r\nHost: x\r\n${auth}\r\n`, 414, 'PARASCAN_URL_TOO_LONG'],
    ['a body over PARASCAN_BODY_LIMIT', post('/v1/scans', `"${'x'.repeat(4000)}"`, auth), 413, 'PARASCAN_BODY_TOO_LARGE'],
    ['a body that is not JSON', post('/v1/scans', '{"source":', auth), 400, 'PARASCAN_MALFORMED_JSON'],
    ['a body of another media type', `POST /v1/scans HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: text/csv\r\nContent-Length: 3\r\n\r\na,b`, 415, 'PARASCAN_UNSUPPORTED_MEDIA_TYPE'],
    ['a compressed body', post('/v1/scans', '{}', `${auth}Content-Encoding: br\r\n`), 415, 'PARASCAN_UNSUPPORTED_MEDIA_TYPE'],
    ['no API key', 'GET /v1/scans HTTP/1.1\r\nHost: x\r\n\r\n', 401, 'PARASCAN_UNAUTHORIZED'],
    ['/metrics without its token', 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n', 401, 'PARASCAN_UNAUTHORIZED'],
    ['/metrics with a wrong token', 'GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\n\r\n', 401, 'PARASCAN_UNAUTHORIZED'],
    ['the dashboard without its credential', 'GET /admin/queues HTTP/1.1\r\nHost: x\r\n\r\n', 401, 'PARASCAN_UNAUTHORIZED'],
    ['a file the dashboard does not have', `GET /admin/queues/static/nope.js HTTP/1.1\r\nHost: x\r\nAuthorization: ${ADMIN}\r\n\r\n`, 404, 'PARASCAN_NOT_FOUND'],
    ['a queue the dashboard does not have', `GET /admin/queues/api/queues/nope/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: ${ADMIN}\r\n\r\n`, 404, 'PARASCAN_ADMIN_ERROR'],
    ['a dashboard action it refuses', `PUT /admin/queues/api/queues/scans/retry/failed HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nAuthorization: ${ADMIN}\r\n\r\n`, 405, 'PARASCAN_ADMIN_ERROR'],
    ['a file Swagger UI does not have', 'GET /docs/static/nope.css HTTP/1.1\r\nHost: x\r\n\r\n', 404, 'PARASCAN_NOT_FOUND'],
    ['a plug-in whose schema throws', post('/v1/scans', '{"source":{"type":"range","start":0,"end":1},"pipeline":[{"processor":"throwing-schema","params":{"mode":"throw"}}]}', auth), 500, 'PARASCAN_TASK_MODULE'],
    ['a plug-in whose schema answers nonsense', post('/v1/scans', '{"source":{"type":"range","start":0,"end":1},"pipeline":[{"processor":"throwing-schema","params":{"mode":"nonsense"}}]}', auth), 500, 'PARASCAN_TASK_MODULE']
  ]
  for (const [what, request, status, code] of cases) {
    const answer = await rawRequest(server.url, request)
    assertProblemAnswer(answer, what)
    assert.equal(answer!.status, status, `${what}: ${answer!.body.slice(0, 300)}`)
    assert.equal(JSON.parse(answer!.body).code, code, what)
  }
  let limited
  for (let i = 0; i < 60 && limited === undefined; i++) {
    const answer = await rawRequest(server.url, `GET /v1/scans?limit=1 HTTP/1.1\r\nHost: x\r\n${auth}\r\n`)
    assertProblemAnswer(answer, 'a request under the rate limit')
    if (answer!.status === 429) limited = answer
  }
  assert.ok(limited !== undefined, 'the rate limit answered')
  assert.equal(JSON.parse(limited.body).code, 'PARASCAN_RATE_LIMITED')
  assert.match(limited.headers['retry-after'] ?? '', /^\d+$/)
})

test('a request that arrives on an open connection while the instance shuts down gets a 503 problem+json with Retry-After and Connection: close', async () => {
  const server = await start()
  const { hostname, port } = new URL(server.url)
  const socket = connect(Number(port), hostname)
  let bytes = Buffer.alloc(0)
  socket.on('data', (chunk: Buffer) => { bytes = Buffer.concat([bytes, chunk]) })
  const body = JSON.stringify({ source: { type: 'range', start: 0, end: 3 } })
  socket.write(post('/v1/scans', body).slice(0, -body.length + 5))
  await new Promise((resolve) => setTimeout(resolve, 200))
  const closing = server.close()
  await new Promise((resolve) => setTimeout(resolve, 200))
  socket.write(`${body.slice(5)}GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n`)
  await new Promise((resolve) => socket.on('close', resolve))
  await closing
  const first = firstAnswer(bytes)
  assert.equal(first?.status, 202, bytes.toString())
  const rest = bytes.subarray(bytes.indexOf('HTTP/1.1', 1))
  const second = firstAnswer(rest)
  assertProblemAnswer(second, 'a request during shutdown')
  assert.equal(second!.status, 503)
  assert.equal(JSON.parse(second!.body).code, 'PARASCAN_SHUTTING_DOWN')
  assert.equal(second!.headers.connection, 'close')
})
