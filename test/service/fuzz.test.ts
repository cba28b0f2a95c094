import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import type { RunningServer } from '../../src/server.js'
import { realServer, tempDataDir, waitFor } from '../helpers/service-harness.js'
import { assertProblemAnswer, rawRequest } from '../helpers/raw-http.js'
import { isServiceCode } from '../../src/error-codes.js'

/** Requests per property; `npm run test:fuzz` sets FUZZ_RUNS=10000. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 300)

const servers: RunningServer[] = []
after(async () => { await Promise.allSettled(servers.map(async (server) => await server.close())) })

type Inject = Awaited<ReturnType<RunningServer['app']['inject']>>

/** Never a 5xx; every 4xx is problem+json with a matching status and a code of the catalogue. */
function checkResponse (what: string, method: string, response: Inject): void {
  assert.ok(response.statusCode < 500, `${what} → ${response.statusCode} ${response.body.slice(0, 500)}`)
  if (response.statusCode >= 400 && method !== 'HEAD') {
    assert.match(String(response.headers['content-type']), /^application\/problem\+json/, `${what} → ${response.statusCode} ${response.body.slice(0, 200)}`)
    const problem = response.json()
    assert.equal(problem.status, response.statusCode)
    assert.ok(isServiceCode(problem.code), `${what}: ${problem.code} is a code of the catalogue`)
    assert.equal(typeof problem.detail, 'string')
    assert.ok(response.body.length < 64 * 1024, `${what} → a problem of ${response.body.length} characters`)
  }
}

/** Waits until every scan is readable and finished; `headers` authenticate the reads. */
async function allFinish (server: RunningServer, ids: Iterable<string>, headers: Record<string, string> = {}): Promise<void> {
  for (const id of ids) {
    const doc = await waitFor(async () => {
      const response = await server.app.inject({ method: 'GET', url: `/v1/scans/${id}`, headers })
      if (response.statusCode === 429) return undefined
      assert.equal(response.statusCode, 200, response.body)
      const status = response.json()
      return ['succeeded', 'failed', 'cancelled'].includes(status.status) ? status : undefined
    }, 60_000, 50)
    if (doc.status === 'failed') assert.ok(isServiceCode(doc.error.code), `scan error ${doc.error.code} is a code of the catalogue`)
  }
}

const validScans: object[] = [
  { source: { type: 'range', start: 0, end: 200 }, pipeline: [{ filter: 'record % 2 == 0' }, { map: 'record * 2' }] },
  { source: { type: 'inline', records: [1, 'a', { b: [2, null] }, 3.5] }, pipeline: [{ map: 'string(record)' }], on_error: 'skip', ordered: true },
  { source: { type: 'file', path: 'people.ndjson', format: 'ndjson' }, pipeline: [{ filter: 'record.age >= 18' }], max_results: 2 },
  { source: { type: 'file', path: 'people.csv', format: 'csv', columns: { age: 'integer' } }, aggregate: { group_by: 'record.age > 30', metrics: { n: { op: 'count' }, s: { op: 'sum', expr: 'record.age' } } } },
  { source: { type: 'range', start: 5, end: 50 }, pipeline: [{ processor: 'synthetic', params: { cost_us: 1 } }], parallel: { max_workers: 1, scheduler: 'thread_pool' }, timeout_seconds: 0.3 }
]

const hugeNumbers = fc.constantFrom(2 ** 53, -(2 ** 53), 1e308, -1e308, Number.MAX_SAFE_INTEGER, 0.5, -1, 1e21, 4294967296, -0)
const oddValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  hugeNumbers,
  fc.string({ maxLength: 30 }),
  fc.string({ minLength: 5000, maxLength: 20000 }).map((s) => s.repeat(2)),
  fc.constantFrom('', '\u0000', '../../etc/passwd', '%2e%2e/x', 'record', 'record.', '(((((', 'size(record) > 0', '\ud800', 'record / 0', 'int(record) % 0')
)

/** A valid scan with one field, at any depth, replaced or removed. */
const mutatedScan = fc.tuple(fc.constantFrom(...validScans), fc.nat(), oddValue, fc.boolean()).map(([scan, pick, value, remove]) => {
  const copy = structuredClone(scan) as Record<string, unknown>
  const holders: Array<[Record<string, unknown> | unknown[], string | number]> = []
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach((child, i) => { holders.push([node, i]); visit(child) })
    else if (node !== null && typeof node === 'object') for (const key of Object.keys(node)) { holders.push([node as Record<string, unknown>, key]); visit((node as Record<string, unknown>)[key]) }
  }
  visit(copy)
  const [holder, key] = holders[pick % holders.length]
  if (remove && !Array.isArray(holder)) delete holder[key as string]
  else (holder as Record<string | number, unknown>)[key] = value
  return JSON.stringify(copy)
})

const deepNesting = fc.tuple(fc.integer({ min: 50, max: 5000 }), fc.constantFrom('[', '{"a":')).map(([depth, open]) =>
  `{"source":{"type":"inline","records":[${open.repeat(depth)}1${(open === '[' ? ']' : '}').repeat(depth)}]}}`)

/** Many or long fields that a problem could echo: bad metrics and columns, unknown keys, long names. */
const manyOrLong = fc.oneof(fc.tuple(fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 1, max: 40 })), fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 80_000 })))
const echoed = fc.tuple(manyOrLong, fc.constantFrom('metrics', 'columns', 'keys', 'processor', 'path', 'type'))
  .map(([[count, length], where]) => {
    const name = (i: number): string => `${'n'.repeat(length)}${i}`
    const many = (value: unknown): Record<string, unknown> => Object.fromEntries(Array.from({ length: count }, (_, i) => [name(i), value]))
    const range = { type: 'range', start: 0, end: 3 }
    switch (where) {
      case 'metrics': return JSON.stringify({ source: range, aggregate: { group_by: '1', metrics: many({ op: 'nope' }) } })
      case 'columns': return JSON.stringify({ source: { type: 'file', path: 'people.csv', format: 'csv', columns: many('nope') } })
      case 'keys': return JSON.stringify({ source: range, ...many(1) })
      case 'processor': return JSON.stringify({ source: range, pipeline: [{ processor: name(count) }] })
      case 'path': return JSON.stringify({ source: { type: 'file', path: name(count), format: 'ndjson' } })
      default: return JSON.stringify({ source: { type: name(count) } })
    }
  })

/** A valid scan whose first number is written as one JSON.stringify never makes: out of double range, -0, past 2^53. */
const oddNumber = fc.tuple(fc.constantFrom(...validScans), fc.constantFrom('1e400', '-1e400', '-0', '9007199254740993', '1e-400', '0.1e1', '1E2'))
  .map(([scan, number]) => JSON.stringify(scan).replace(/(?<=[:[,])-?\d+(\.\d+)?(?=[,\]}])/, number))

const body = fc.oneof(
  { weight: 4, arbitrary: mutatedScan },
  { weight: 1, arbitrary: echoed },
  { weight: 1, arbitrary: oddNumber },
  { weight: 1, arbitrary: fc.constantFrom(...validScans).map((scan) => JSON.stringify(scan)) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value)) },
  { weight: 1, arbitrary: deepNesting },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.constantFrom('', '{', '{"source":', 'null', '[]', '{"__proto__":{"x":1},"source":{"type":"range","start":0,"end":3}}', '{"constructor":{"prototype":{"y":1}}}') }
)

const idLike = fc.oneof(
  fc.uuid(),
  fc.string({ maxLength: 40 }).map((s) => encodeURIComponent(s)),
  fc.constantFrom('..', '%2e%2e', '%00', 'x'.repeat(600), '%', '%zz', '%E0%A4%A')
)
const query = fc.oneof(
  fc.constant(''),
  fc.tuple(fc.oneof(fc.integer(), fc.string({ maxLength: 10 }).map(encodeURIComponent), hugeNumbers.map(String)), fc.oneof(fc.string({ maxLength: 40 }).map(encodeURIComponent), fc.base64String({ maxLength: 60 })))
    .map(([limit, cursor]) => `?limit=${limit}&cursor=${cursor}`),
  fc.constantFrom('?status=queued', '?status=nope', '?limit=0', '?limit=1e3', '?limit=99999999999999999999', '?limit=&limit=2', '?cursor=', '?a[b]=1')
)
const url = fc.oneof(
  { weight: 4, arbitrary: fc.constant('/v1/scans') },
  { weight: 2, arbitrary: fc.tuple(idLike, query).map(([id, q]) => `/v1/scans/${id}${q}`) },
  { weight: 2, arbitrary: fc.tuple(idLike, query).map(([id, q]) => `/v1/scans/${id}/results${q}`) },
  { weight: 1, arbitrary: idLike.map((id) => `/v1/scans/${id}/cancel`) },
  { weight: 1, arbitrary: query.map((q) => `/v1/scans${q}`) },
  { weight: 1, arbitrary: fc.constantFrom('/', '//v1/scans', '/v1//scans', '/V1/scans', '/v1/scans/', '/v1/scans?', '/docs/json', '/healthz', '/metrics', '/v1/%2e%2e/healthz', '/v1/scans/%2F..%2F') },
  { weight: 1, arbitrary: fc.string({ maxLength: 50 }).map((s) => `/${encodeURIComponent(s)}`) }
)
const method = fc.oneof(
  { weight: 5, arbitrary: fc.constant('POST') },
  { weight: 3, arbitrary: fc.constant('GET') },
  { weight: 1, arbitrary: fc.constantFrom('PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD') }
)
const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constant('application/json') },
  { weight: 1, arbitrary: fc.constantFrom(undefined, 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x',
    'application/json; charset=latin1', 'APPLICATION/JSON', 'application/json;;', 'application/problem+json', '*/*', 'application/jsonx', '') }
)
const extraHeaders = fc.record({
  'idempotency-key': fc.option(fc.oneof(fc.string({ minLength: 1, maxLength: 20 }).filter((s) => /^[\x21-\x7e]+$/.test(s)), fc.constant('k'.repeat(300))), { nil: undefined }),
  accept: fc.option(fc.constantFrom('text/html', 'application/xml', '*/*', 'application/json'), { nil: undefined }),
  authorization: fc.option(fc.constantFrom('Bearer x', 'Basic Zm9vOmJhcg==', 'Bearer'), { nil: undefined })
}, { requiredKeys: [] })

const request = fc.record({ method, url, body, contentType, headers: extraHeaders })

test(`fuzzed requests (${RUNS}) against the real app: never a 5xx, problem+json on every 4xx, and every accepted scan reaches a final state`, async () => {
  const dataDir = tempDataDir()
  writeFileSync(join(dataDir, 'people.ndjson'), '{"name":"a","age":17}\n{"name":"b","age":40}\n{"name":"c","age":22}\n')
  writeFileSync(join(dataDir, 'people.csv'), 'name,age\na,17\nb,40\n')
  const server = await realServer({
    DATA_DIR: dataDir,
    BODY_LIMIT: String(256 * 1024),
    PARASCAN_SCAN_TIMEOUT: '1s',
    PARASCAN_MAX_QUEUED_SCANS: '40',
    PARASCAN_CONCURRENCY: '2'
  })
  servers.push(server)
  const app = server.app
  await waitFor(async () => (await app.inject({ method: 'GET', url: '/readyz' })).statusCode === 200 ? true : undefined)
  const accepted = new Set<string>()
  const statuses = new Map<number, number>()

  await fc.assert(fc.asyncProperty(request, async (r) => {
    const headers: Record<string, string> = {}
    if (r.contentType !== undefined) headers['content-type'] = r.contentType
    for (const [name, value] of Object.entries(r.headers)) if (value !== undefined) headers[name] = value
    const sendsBody = r.method !== 'GET' && r.method !== 'HEAD'
    const response = await app.inject({ method: r.method as 'GET', url: r.url, headers, payload: sendsBody ? r.body : undefined })
    statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1)
    checkResponse(`${r.method} ${r.url}`, r.method, response)
    if (response.statusCode === 202 && r.method === 'POST' && /^\/v1\/scans\/?$/.test(r.url)) accepted.add(response.json().id)
  }), { numRuns: RUNS })

  assert.ok(accepted.size > 0, 'some requests were valid scans')
  assert.ok([...statuses.keys()].some((status) => status >= 400), 'some requests were refused')
  await allFinish(server, accepted)
  assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200)
  process.stdout.write(`# fuzz: ${RUNS} requests, ${accepted.size} scans accepted and finished; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}\n`)
})

const KEY_A = 'fuzz-key-of-tenant-a'
const KEY_B = 'fuzz-key-of-tenant-b'

test(`fuzzed requests (${Math.ceil(RUNS / 3)}) with API keys and a rate limit: no 5xx, no /v1 answer without a valid key, no tenant reads another's scan`, async () => {
  const server = await realServer({
    PARASCAN_API_KEYS: `a:${KEY_A},b:${KEY_B}`,
    PARASCAN_RATE_LIMIT: '150',
    PARASCAN_AUTH_FAILURE_LIMIT: '1000000',
    PARASCAN_RATE_LIMIT_WINDOW: '1s',
    PARASCAN_SCAN_TIMEOUT: '1s',
    PARASCAN_MAX_QUEUED_SCANS_PER_TENANT: '10'
  })
  servers.push(server)
  const app = server.app
  const idsOfA: string[] = []
  for (const end of [10, 20, 30]) {
    const response = await app.inject({ method: 'POST', url: '/v1/scans', payload: { source: { type: 'range', start: 0, end } }, headers: { authorization: `Bearer ${KEY_A}` } })
    assert.equal(response.statusCode, 202)
    idsOfA.push(response.json().id)
  }
  const accepted = new Map<string, string>([...idsOfA].map((id) => [id, KEY_A]))
  const authorization = fc.constantFrom(undefined, `Bearer ${KEY_A}`, `Bearer ${KEY_B}`, `Bearer ${KEY_A} `, `bearer ${KEY_B}`, `Bearer ${KEY_A}x`,
    `Basic ${KEY_A}`, 'Bearer', `Bearer ${'x'.repeat(5000)}`, `Bearer ${KEY_B.toUpperCase()}`, 'Bearer \u0000')
  const path = fc.oneof(
    fc.constant('/v1/scans'),
    fc.tuple(fc.nat(2), fc.constantFrom('', '/results', '/results?limit=2', '/cancel')).map(([i, rest]) => `/v1/scans/${idsOfA[i]}${rest}`),
    fc.tuple(idLike, query).map(([id, q]) => `/v1/scans/${id}${q}`),
    fc.constantFrom('/v1/scans?status=succeeded', '/metrics', '/healthz', '/admin/queues', '/v1', '/v1/')
  )
  const keyed = fc.record({ method, url: path, body, authorization })

  await fc.assert(fc.asyncProperty(keyed, async (r) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (r.authorization !== undefined) headers.authorization = r.authorization
    const sendsBody = r.method !== 'GET' && r.method !== 'HEAD'
    const response = await app.inject({ method: r.method as 'GET', url: r.url, headers, payload: sendsBody ? r.body : undefined })
    checkResponse(`${r.method} ${r.url} as ${r.authorization ?? 'nobody'}`, r.method, response)
    const key = /^bearer +(\S+) *$/i.exec(r.authorization ?? '')?.[1]
    const valid = key === KEY_A || key === KEY_B
    if (r.url.startsWith('/v1') && !valid) {
      const badUrl = response.statusCode === 400 && (r.method === 'HEAD' || /is not a valid url component/.test(response.json().detail))
      assert.ok(response.statusCode === 401 || response.statusCode === 414 || badUrl, `${r.method} ${r.url} without a valid key → ${response.statusCode}`)
    }
    const ofA = idsOfA.find((id) => r.url.includes(id))
    if (ofA !== undefined && key === KEY_B) assert.ok(response.statusCode >= 400 && response.statusCode !== 409, `tenant b reached a scan of a: ${response.statusCode}`)
    if (response.statusCode === 202 && r.method === 'POST' && r.url === '/v1/scans') accepted.set(response.json().id, key!)
  }), { numRuns: Math.ceil(RUNS / 3) })

  for (const [id, key] of accepted) await allFinish(server, [id], { authorization: `Bearer ${key}` })
})

const grower = fc.constantFrom('record + record', '{"l": record, "r": record}', '[record, record, record]', 'string(record) + string(record)',
  'record.map(x, record)', 'size(string(record)) > 0 ? [record, record] : record', '{"__proto__": record, "constructor": record}')
const seed = fc.constantFrom<unknown>([0], [1, 2], 'a', '€😀', { k: 'v' }, 0, ['x'.repeat(100)], { __proto__: null, constructor: 1 })
const hostileScan = fc.oneof(
  fc.record({ seed, expr: grower, times: fc.integer({ min: 1, max: 30 }), skip: fc.boolean(), ordered: fc.boolean(), end: fc.integer({ min: 1, max: 40 }) })
    .map(({ seed, expr, times, skip, ordered, end }) => ({
      source: { type: 'inline', records: Array.from({ length: end }, () => seed) },
      pipeline: Array.from({ length: times }, () => ({ map: expr })),
      on_error: skip ? 'skip' : 'fail',
      ordered
    })),
  fc.record({ n: fc.integer({ min: 20, max: 60 }), pattern: fc.constantFrom('^(a+)+$', '(a|a)*b', '(a*)*$', '^(a|aa)+$', '(.*a){12}') })
    .map(({ n, pattern }) => ({ source: { type: 'inline', records: [`${'a'.repeat(n)}!`, 'aaaa'] }, pipeline: [{ filter: `record.matches(${JSON.stringify(pattern)})` }] })),
  fc.integer({ min: 1, max: 400 }).map((n) => ({ source: { type: 'inline', records: [{ l: Array.from({ length: n }, (_, i) => i) }] }, pipeline: [{ filter: 'record.l.all(a, record.l.all(b, record.l.all(c, a + b + c >= 0.0)))' }] })),
  fc.integer({ min: 1, max: 20 }).map((n) => ({ source: { type: 'range', start: 0, end: 50_000 }, aggregate: { group_by: `string(record)${' + string(record)'.repeat(n)}`, metrics: { n: { op: 'count' } } } })),
  fc.integer({ min: 200, max: 300 }).map((n) => ({ source: { type: 'range', start: 0, end: 2000 }, aggregate: { group_by: 'record % 7', metrics: Object.fromEntries(Array.from({ length: n }, (_, i) => [`m${i}`, { op: 'sum', expr: `record * ${i}` }])) } })),
  fc.integer({ min: 1, max: 12 }).map((n) => ({ source: { type: 'range', start: 0, end: 2000 }, ordered: true, max_results: 10, pipeline: [{ map: 'string(record) + "-"' }, ...Array.from({ length: n }, () => ({ map: 'record + record' }))] }))
)

test(`hostile scans (${Math.ceil(RUNS / 10)}): values that grow, backtracking patterns, nested macros, huge aggregates; never a 5xx, the instance stays up with bounded memory and every scan ends`, async () => {
  const server = await realServer({
    PARASCAN_SCAN_TIMEOUT: '2s',
    PARASCAN_RECORD_TIME_LIMIT: '500ms',
    PARASCAN_WORKER_HEAP_MB: '128',
    PARASCAN_MAX_VALUE_BYTES: String(256 * 1024),
    PARASCAN_MAX_RESULT_BYTES: String(64 * 1024),
    PARASCAN_MAX_GROUPS: '5000',
    PARASCAN_MAX_SCAN_RESULT_BYTES: String(4 * 1024 * 1024),
    PARASCAN_CONCURRENCY: '1'
  })
  servers.push(server)
  const app = server.app
  let peakRss = process.memoryUsage().rss
  await fc.assert(fc.asyncProperty(hostileScan, async (scan) => {
    const response = await app.inject({ method: 'POST', url: '/v1/scans', payload: scan })
    checkResponse(`hostile ${JSON.stringify(scan).slice(0, 200)}`, 'POST', response)
    if (response.statusCode === 202) await allFinish(server, [response.json().id])
    assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200)
    peakRss = Math.max(peakRss, process.memoryUsage().rss)
  }), { numRuns: Math.ceil(RUNS / 10) })
  process.stdout.write(`# hostile scans: peak RSS ${Math.round(peakRss / 2 ** 20)} MiB\n`)
  assert.ok(peakRss < 1.5 * 2 ** 30, `peak RSS ${peakRss}`)
})

const token = fc.stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,12}$/)
const rawMethod = fc.oneof({ weight: 8, arbitrary: fc.constantFrom('GET', 'POST', 'HEAD', 'DELETE', 'PUT', 'OPTIONS', 'PATCH', 'TRACE', 'PROPFIND', 'CONNECT') },
  { weight: 1, arbitrary: fc.oneof(fc.constantFrom('get', 'G ET', ''), token) })
const target = fc.oneof(url, fc.constantFrom('*', 'http://evil/v1/scans', '/v1/scans/\u0000', `/${'x'.repeat(20_000)}`, '/v1/scans#frag', '/%', ''),
  fc.string({ maxLength: 30 }).map((s) => `/${s}`))
const version = fc.oneof({ weight: 8, arbitrary: fc.constant('HTTP/1.1') }, { weight: 2, arbitrary: fc.constantFrom('HTTP/1.0', 'HTTP/2.0', 'HTTP/1.9', 'HTTP/1', 'http/1.1', '') })
const header = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('Content-Type: application/json', 'Content-Type: text/plain', 'Content-Type: ;;', 'Content-Length: 5',
    'Content-Length: 99999999999', 'Transfer-Encoding: chunked', 'Expect: 100-continue', 'Expect: nonsense', 'Content-Encoding: gzip',
    'Connection: close', 'Connection: Upgrade', 'Upgrade: websocket', 'Accept: application/x-ndjson', 'Authorization: Bearer x', 'Idempotency-Key: k') },
  { weight: 2, arbitrary: fc.tuple(token, fc.stringMatching(/^[\x20-\x7e]{0,40}$/)).map(([name, value]) => `${name}: ${value}`) },
  { weight: 1, arbitrary: fc.constantFrom('Content-Length: -1', 'Content-Length: abc', 'Transfer-Encoding: gzip, chunked', 'Bad Header: x', ': empty',
    'X-Nul: a\u0000b', `X-Big: ${'b'.repeat(17_000)}`) }
)
const rawBody = fc.oneof(body, fc.constantFrom('', '0\r\n\r\n', '5\r\n{"a":\r\n0\r\n\r\n', 'zz\r\nxx\r\n', '\r\n\r\nGET / HTTP/1.1\r\n\r\n'))
const rawRequests = fc.record({ method: rawMethod, target, version, host: fc.boolean(), length: fc.boolean(), headers: fc.array(header, { maxLength: 5 }), body: rawBody })

test(`fuzzed raw HTTP (${Math.ceil(RUNS / 3)}) on real sockets: every request gets an answer, and every error answer is problem+json with a code of the catalogue`, async () => {
  const server = await realServer({ PARASCAN_REQUEST_TIMEOUT: '1s', PARASCAN_HEADERS_TIMEOUT: '500ms', BODY_LIMIT: '4096' })
  servers.push(server)
  const statuses = new Map<number, number>()
  await fc.assert(fc.asyncProperty(rawRequests, async (r) => {
    const text = `${r.method} ${r.target} ${r.version}`.trimEnd() + `\r\n${[...(r.host ? ['Host: x'] : []), ...(r.length ? [`Content-Length: ${Buffer.byteLength(r.body)}`] : []), ...r.headers].map((line) => `${line}\r\n`).join('')}\r\n${r.body}`
    const what = JSON.stringify(text.slice(0, 300))
    const answer = await rawRequest(server.url, text, { head: r.method === 'HEAD' })
    assertProblemAnswer(answer, what, r.method === 'HEAD')
    assert.ok(answer!.status < 500 || answer!.status === 503, `${what} → ${answer!.status} ${answer!.body.slice(0, 300)}`)
    statuses.set(answer!.status, (statuses.get(answer!.status) ?? 0) + 1)
  }), { numRuns: Math.ceil(RUNS / 3) })
  assert.equal((await server.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200)
  process.stdout.write(`# raw fuzz: statuses ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}\n`)
})
