import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdirSync, symlinkSync, writeFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { RunningServer } from '../../src/server.js'
import { dropPrefix, realServer, REDIS_URL, tempDataDir, uniquePrefix, waitFor } from '../helpers/service-harness.js'
import { ApiClient, problemCodeOf } from '../../src/cli/api-client.js'

const servers: RunningServer[] = []
const prefixes: string[] = []
after(async () => {
  await Promise.allSettled(servers.map(async (server) => await server.close()))
  for (const prefix of prefixes) await dropPrefix(prefix)
})

const KEY_A = 'key-of-tenant-a-0001'
const KEY_B = 'key-of-tenant-b-0002'
const KEY_B_DIGEST = createHash('sha256').update(KEY_B).digest('hex')
const KEYS = `a:${KEY_A},b:sha256:${KEY_B_DIGEST}`

async function start (env: Record<string, string> = {}): Promise<RunningServer> {
  const server = await realServer({ PARASCAN_API_KEYS: KEYS, ...env })
  servers.push(server)
  return server
}

type Inject = Awaited<ReturnType<RunningServer['app']['inject']>>

function as (server: RunningServer, key: string | undefined) {
  return async (method: string, url: string, payload?: object, headers: Record<string, string> = {}): Promise<Inject> =>
    await server.app.inject({ method: method as 'GET', url, payload, headers: key === undefined ? headers : { authorization: `Bearer ${key}`, ...headers } })
}

function assertProblem (response: Inject, status: number, code: string): any {
  assert.equal(response.statusCode, status, response.body)
  assert.match(String(response.headers['content-type']), /^application\/problem\+json/)
  const body = response.json()
  assert.equal(body.code, code)
  return body
}

const small = { source: { type: 'range', start: 0, end: 100 }, ordered: true }

async function finished (call: ReturnType<typeof as>, id: string): Promise<any> {
  return await waitFor(async () => {
    const doc = (await call('GET', `/v1/scans/${id}`)).json()
    return ['succeeded', 'failed', 'cancelled'].includes(doc.status) ? doc : undefined
  })
}

test('with PARASCAN_API_KEYS every /v1 route needs a valid key: 401 problem+json with WWW-Authenticate; health, readiness and docs stay open', async () => {
  const server = await start()
  const anonymous = as(server, undefined)
  for (const [method, url] of [['GET', '/v1/scans'], ['POST', '/v1/scans'], ['GET', '/v1/scans/x'], ['GET', '/v1/scans/x/results'], ['POST', '/v1/scans/x/cancel'], ['DELETE', '/v1/scans/x'], ['GET', '/v1/nothing-here']]) {
    const response = await anonymous(method, url, method === 'POST' ? small : undefined)
    assertProblem(response, 401, 'PARASCAN_UNAUTHORIZED')
    assert.equal(response.headers['www-authenticate'], 'Bearer realm="parascan"')
  }
  for (const header of [`Bearer ${KEY_A}x`, `Bearer ${KEY_B_DIGEST}`, `Basic ${Buffer.from(`a:${KEY_A}`).toString('base64')}`, 'Bearer', `Bearer  ${KEY_A} extra`]) {
    const response = await anonymous('GET', '/v1/scans', undefined, { authorization: header })
    assertProblem(response, 401, 'PARASCAN_UNAUTHORIZED')
    assert.match(String(response.headers['www-authenticate']), /^Bearer realm="parascan"/)
  }
  assert.match(String((await anonymous('GET', '/v1/scans', undefined, { authorization: `Bearer ${KEY_B}x` })).headers['www-authenticate']), /error="invalid_token"/)
  for (const url of ['/healthz', '/readyz', '/docs/json', '/metrics']) {
    assert.equal((await waitFor(async () => { const r = await anonymous('GET', url); return r.statusCode === 200 ? r : undefined })).statusCode, 200, url)
  }
  assert.equal((await as(server, KEY_A)('GET', '/v1/scans')).statusCode, 200)
  assert.equal((await anonymous('GET', '/v1/scans', undefined, { authorization: `bearer ${KEY_B}` })).statusCode, 200, 'a hashed key and a lower-case scheme')
  const openapi = (await anonymous('GET', '/docs/json')).json()
  assert.deepEqual(openapi.components.securitySchemes.apiKey, { type: 'http', scheme: 'bearer', description: 'An API key of PARASCAN_API_KEYS; it names the tenant.' })
  assert.deepEqual(openapi.paths['/v1/scans'].post.security, [{ apiKey: [] }])
  assert.deepEqual(openapi.paths['/v1/scans/{id}/results'].get.security, [{ apiKey: [] }])
  assert.ok('401' in openapi.paths['/v1/scans/{id}'].get.responses)
  assert.deepEqual(openapi.paths['/healthz'].get.security, [])
})

test('a tenant sees only its own scans: another tenant gets 404 everywhere and an empty list; Idempotency-Keys are per tenant', async () => {
  const server = await start()
  const a = as(server, KEY_A)
  const b = as(server, KEY_B)
  const accepted = await a('POST', '/v1/scans', small, { 'idempotency-key': 'same' })
  assert.equal(accepted.statusCode, 202)
  const id = accepted.json().id as string
  assert.equal((await finished(a, id)).status, 'succeeded')

  assertProblem(await b('GET', `/v1/scans/${id}`), 404, 'PARASCAN_SCAN_NOT_FOUND')
  assertProblem(await b('GET', `/v1/scans/${id}/results`), 404, 'PARASCAN_SCAN_NOT_FOUND')
  assertProblem(await b('POST', `/v1/scans/${id}/cancel`), 404, 'PARASCAN_SCAN_NOT_FOUND')
  assertProblem(await b('DELETE', `/v1/scans/${id}`), 404, 'PARASCAN_SCAN_NOT_FOUND')
  assert.deepEqual((await b('GET', '/v1/scans')).json().items, [])
  assert.deepEqual((await a('GET', '/v1/scans')).json().items.map((doc: { id: string }) => doc.id), [id])
  assert.equal((await a('GET', `/v1/scans/${id}/results`)).json().items.length, 100)
  assert.equal('tenant' in (await a('GET', `/v1/scans/${id}`)).json(), false)

  const other = await b('POST', '/v1/scans', { ...small, max_results: 5 }, { 'idempotency-key': 'same' })
  assert.equal(other.statusCode, 202, 'the same key of another tenant is not a conflict')
  assert.notEqual(other.json().id, id)
  assert.equal((await a('POST', '/v1/scans', small, { 'idempotency-key': 'same' })).json().id, id)

  assert.equal((await a('DELETE', `/v1/scans/${id}`)).statusCode, 204)
})

test('PARASCAN_METRICS_TOKEN protects /metrics; /admin/queues needs the admin credential (HTTP Basic), not an API key, and shows no stack traces', async () => {
  const prefix = uniquePrefix()
  prefixes.push(prefix)
  const server = await start({ PARASCAN_METRICS_TOKEN: 'scrape-token', REDIS_URL, PARASCAN_KEY_PREFIX: prefix, PARASCAN_ADMIN_CREDENTIALS: 'ops:an-admin-password-1234' })
  const anonymous = as(server, undefined)
  const noToken = await anonymous('GET', '/metrics')
  assertProblem(noToken, 401, 'PARASCAN_UNAUTHORIZED')
  assert.equal(noToken.headers['www-authenticate'], 'Bearer realm="parascan-metrics"')
  assertProblem(await as(server, KEY_A)('GET', '/metrics'), 401, 'PARASCAN_UNAUTHORIZED')
  const scraped = await as(server, 'scrape-token')('GET', '/metrics')
  assert.equal(scraped.statusCode, 200)
  assert.match(scraped.body, /parascan_scans_total/)
  const basic = (user: string, password: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` })
  const admin = async (url: string, headers: Record<string, string> = {}) => await server.app.inject({ method: 'GET', url, headers })
  const refused = assertProblem(await admin('/admin/queues'), 401, 'PARASCAN_UNAUTHORIZED')
  assert.match(refused.detail, /PARASCAN_ADMIN_CREDENTIALS/)
  assert.equal((await admin('/admin/queues')).headers['www-authenticate'], 'Basic realm="parascan-admin", charset="UTF-8"')
  assertProblem(await admin('/admin/queues/api/queues'), 401, 'PARASCAN_UNAUTHORIZED')
  assertProblem(await admin('/admin/queues/api/queues', { authorization: `Bearer ${KEY_A}` }), 401, 'PARASCAN_UNAUTHORIZED')
  assertProblem(await admin('/admin/queues/api/queues', basic('ops', 'wrong-password-1234')), 401, 'PARASCAN_UNAUTHORIZED')
  assertProblem(await admin('/admin/queues/api/redis/stats', basic('a', KEY_A)), 401, 'PARASCAN_UNAUTHORIZED')
  assert.equal((await admin('/admin/queues', basic('ops', 'an-admin-password-1234'))).statusCode, 200)
  const failing = await as(server, KEY_A)('POST', '/v1/scans', { source: { type: 'inline', records: [{ a: 1 }] }, pipeline: [{ filter: 'record.b > 1.0' }] })
  await waitFor(async () => (await as(server, KEY_A)('GET', `/v1/scans/${failing.json().id}`)).json().status === 'failed' ? true : undefined, 15_000)
  const queues = await admin('/admin/queues/api/queues?activeQueue=scans&status=failed', basic('ops', 'an-admin-password-1234'))
  assert.equal(queues.statusCode, 200)
  assert.doesNotMatch(queues.body, /stacktrace|\.js:\d+/)
  const missing = await admin('/admin/queues/api/queues/nope/jobs/x', basic('ops', 'an-admin-password-1234'))
  assert.ok(missing.statusCode >= 400 && missing.statusCode < 500, String(missing.statusCode))
  assert.match(String(missing.headers['content-type']), /^application\/problem\+json/)
})

test('with API keys and no PARASCAN_ADMIN_CREDENTIALS the queue dashboard is off', async () => {
  const prefix = uniquePrefix()
  prefixes.push(prefix)
  const server = await start({ REDIS_URL, PARASCAN_KEY_PREFIX: prefix })
  assert.equal((await as(server, KEY_A)('GET', '/admin/queues/api/queues')).statusCode, 404)
  assert.equal((await as(server, undefined)('GET', '/admin/queues')).statusCode, 404)
})

test('rate limit per tenant: 429 problem+json with Retry-After; other tenants and /healthz unaffected', async () => {
  const server = await start({ PARASCAN_RATE_LIMIT: '3', PARASCAN_RATE_LIMIT_WINDOW: '1m' })
  const a = as(server, KEY_A)
  for (let i = 0; i < 3; i++) assert.equal((await a('GET', '/v1/scans')).statusCode, 200)
  const limited = await a('GET', '/v1/scans')
  assert.match(assertProblem(limited, 429, 'PARASCAN_RATE_LIMITED').detail, /at most 3 requests per 60 s; retry in /)
  assert.ok(Number(limited.headers['retry-after']) > 0 && Number(limited.headers['retry-after']) <= 60)
  assert.equal((await as(server, KEY_B)('GET', '/v1/scans')).statusCode, 200)
  for (let i = 0; i < 5; i++) assert.equal((await a('GET', '/healthz')).statusCode, 200)
  assertProblem(await as(server, undefined)('GET', '/v1/scans'), 401, 'PARASCAN_UNAUTHORIZED')
})

test('the rate limit is shared by instances on one Redis', async () => {
  const prefix = uniquePrefix()
  prefixes.push(prefix)
  const env = { PARASCAN_RATE_LIMIT: '4', PARASCAN_RATE_LIMIT_WINDOW: '1m', REDIS_URL, PARASCAN_KEY_PREFIX: prefix, PARASCAN_CONCURRENCY: '0' }
  const one = await start(env)
  const two = await start(env)
  const statuses: number[] = []
  for (let i = 0; i < 6; i++) statuses.push((await as(i % 2 === 0 ? one : two, KEY_A)('GET', '/v1/scans')).statusCode)
  assert.deepEqual(statuses, [200, 200, 200, 200, 429, 429])
})

test('file sources stay in PARASCAN_DATA_DIR through the API (.., absolute, NUL, symbolic links, encoded dots) and, per tenant, in PARASCAN_DATA_DIR/<tenant>', async () => {
  const dataDir = tempDataDir()
  const outside = mkdtempSync(join(tmpdir(), 'parascan-outside-'))
  writeFileSync(join(outside, 'secret.ndjson'), '{"secret":1}\n')
  for (const tenant of ['a', 'b']) {
    mkdirSync(join(dataDir, tenant))
    writeFileSync(join(dataDir, tenant, 'own.ndjson'), `{"tenant":"${tenant}"}\n`)
  }
  writeFileSync(join(dataDir, 'shared.ndjson'), '{"shared":1}\n')
  symlinkSync(join(outside, 'secret.ndjson'), join(dataDir, 'a', 'link-out.ndjson'))
  symlinkSync(join(dataDir, 'b', 'own.ndjson'), join(dataDir, 'a', 'link-to-b.ndjson'))
  const server = await start({ PARASCAN_DATA_DIR: dataDir, PARASCAN_DATA_DIR_PER_TENANT: 'true' })
  const a = as(server, KEY_A)
  const file = (path: string) => ({ source: { type: 'file', path, format: 'ndjson' } })

  const own = await a('POST', '/v1/scans', file('own.ndjson'))
  assert.equal(own.statusCode, 202, own.body)
  assert.equal((await finished(a, own.json().id)).status, 'succeeded')
  assert.deepEqual((await a('GET', `/v1/scans/${own.json().id}/results`)).json().items, [{ tenant: 'a' }])

  for (const path of ['../b/own.ndjson', '../shared.ndjson', '..', join(dataDir, 'b', 'own.ndjson'), '/etc/passwd', join(outside, 'secret.ndjson'),
    'own.ndjson\u0000.txt', 'link-out.ndjson', 'link-to-b.ndjson', 'sub/../../b/own.ndjson']) {
    const body = assertProblem(await a('POST', '/v1/scans', file(path)), 400, 'PARASCAN_PATH_OUTSIDE_DATA_DIR')
    assert.deepEqual(body.errors, [{ path: 'source.path', message: 'leads outside PARASCAN_DATA_DIR' }], path)
  }
  for (const path of ['%2e%2e/b/own.ndjson', '%2E%2E%2Fshared.ndjson', '..%2fshared.ndjson']) {
    const response = await a('POST', '/v1/scans', file(path))
    assert.equal(response.statusCode >= 400 && response.statusCode < 500, true, `${path}: ${response.body}`)
    assert.notEqual(response.json().code, undefined)
  }
})

test('the command line client sends PARASCAN_API_KEY (or its apiKey option) as a bearer token', async () => {
  const server = await start()
  await assert.rejects(new ApiClient({ url: server.url, apiKey: '' }).list(), (error) => problemCodeOf(error) === 'PARASCAN_UNAUTHORIZED')
  const accepted = await new ApiClient({ url: server.url, apiKey: KEY_A }).submit(small)
  const previous = process.env.PARASCAN_API_KEY
  process.env.PARASCAN_API_KEY = KEY_A
  try {
    assert.equal((await new ApiClient({ url: server.url }).status(accepted.id)).id, accepted.id)
  } finally {
    if (previous === undefined) delete process.env.PARASCAN_API_KEY
    else process.env.PARASCAN_API_KEY = previous
  }
  await assert.rejects(new ApiClient({ url: server.url, apiKey: KEY_B }).status(accepted.id), (error) => problemCodeOf(error) === 'PARASCAN_SCAN_NOT_FOUND')
})
