import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { loadServiceConfig } from '../../src/config/service-config.js'
import type { RunningServer } from '../../src/server.js'
import { build, dropPrefix, realServer, REDIS_URL, tempDataDir, uniquePrefix, waitFor } from '../helpers/service-harness.js'

const closers: Array<() => Promise<void>> = []
after(async () => { for (const close of closers) await close() })

function assertProblem (response: { statusCode: number, headers: Record<string, unknown>, json(): any }, status: number, code: string): any {
  assert.equal(response.statusCode, status, String((response as { body?: string }).body))
  assert.match(String(response.headers['content-type']), /^application\/problem\+json/)
  const body = response.json()
  assert.equal(body.code, code)
  assert.equal(body.status, status)
  return body
}

async function startServer (env: Record<string, string>): Promise<RunningServer> {
  const server = await realServer(env)
  closers.push(async () => await server.close())
  return server
}

async function finished (app: FastifyInstance, id: string, timeoutMs = 15_000): Promise<any> {
  return await waitFor(async () => {
    const doc = (await app.inject({ method: 'GET', url: `/v1/scans/${id}` })).json()
    return ['succeeded', 'failed', 'cancelled'].includes(doc.status) ? doc : undefined
  }, timeoutMs)
}

test('each request limit is a 400 PARASCAN_LIMIT_EXCEEDED naming the field and its setting; at the limit is fine', async (t) => {
  const app = await build(t, {
    consume: false,
    env: { PARASCAN_MAX_INLINE_RECORDS: '3', PARASCAN_MAX_EXPRESSION_LENGTH: '20', PARASCAN_MAX_PIPELINE_STEPS: '2', PARASCAN_MAX_RESULTS: '50', PARASCAN_SCAN_TIMEOUT: '10s' }
  })
  const post = async (payload: object) => await app.inject({ method: 'POST', url: '/v1/scans', payload })
  const cases: Array<[object, string, RegExp]> = [
    [{ source: { type: 'inline', records: [1, 2, 3, 4] } }, 'source.records', /at most 3 \(PARASCAN_MAX_INLINE_RECORDS\)/],
    [{ source: { type: 'range', start: 0, end: 9 }, pipeline: [{ filter: `record == ${'1'.repeat(30)}` }] }, 'pipeline[0].filter', /PARASCAN_MAX_EXPRESSION_LENGTH/],
    [{ source: { type: 'range', start: 0, end: 9 }, aggregate: { group_by: `record % ${'7'.repeat(30)}`, metrics: { n: { op: 'count' } } } }, 'aggregate.group_by', /PARASCAN_MAX_EXPRESSION_LENGTH/],
    [{ source: { type: 'range', start: 0, end: 9 }, pipeline: [{ map: 'record' }, { map: 'record' }, { map: 'record' }] }, 'pipeline', /at most 2 \(PARASCAN_MAX_PIPELINE_STEPS\)/],
    [{ source: { type: 'range', start: 0, end: 9 }, max_results: 51 }, 'max_results', /at most 50 \(PARASCAN_MAX_RESULTS\)/],
    [{ source: { type: 'range', start: 0, end: 9 }, timeout_seconds: 11 }, 'timeout_seconds', /at most 10 \(PARASCAN_SCAN_TIMEOUT\)/]
  ]
  for (const [payload, path, message] of cases) {
    const body = assertProblem(await post(payload), 400, 'PARASCAN_LIMIT_EXCEEDED')
    assert.equal(body.errors.length, 1, JSON.stringify(body))
    assert.equal(body.errors[0].path, path)
    assert.match(body.errors[0].message, message)
  }
  assert.equal((await post({ source: { type: 'inline', records: [1, 2, 3] }, pipeline: [{ map: 'record' }, { filter: 'record >= 1' }], max_results: 50, timeout_seconds: 10 })).statusCode, 202)
})

test('CEL parse-tree limits hold for expressions under the length limit', async (t) => {
  const app = await build(t, { consume: false, env: { PARASCAN_MAX_EXPRESSION_LENGTH: '100000' } })
  const deep = `${'('.repeat(200)}record${')'.repeat(200)} == 1`
  const wide = `[${Array.from({ length: 1500 }, (_, i) => i).join(',')}].size() > 0`
  for (const filter of [deep, wide]) {
    const body = assertProblem(await app.inject({ method: 'POST', url: '/v1/scans', payload: { source: { type: 'range', start: 0, end: 3 }, pipeline: [{ filter }] } }), 400, 'PARASCAN_INVALID_SCAN')
    assert.equal(body.errors[0].path, 'pipeline[0].filter')
  }
})

test('an aggregate has at most 256 metrics and a CSV source at most 10,000 typed columns: 400 PARASCAN_LIMIT_EXCEEDED naming the field; at the limit is fine', async (t) => {
  const dataDir = tempDataDir()
  writeFileSync(join(dataDir, 'wide.csv'), `${Array.from({ length: 10_000 }, (_, i) => `c${i}`).join(',')}\n${Array.from({ length: 10_000 }, (_, i) => i).join(',')}\n`)
  const app = await build(t, { consume: false, env: { PARASCAN_DATA_DIR: dataDir } })
  const post = async (payload: object) => await app.inject({ method: 'POST', url: '/v1/scans', payload })
  const metrics = (n: number): object => ({ source: { type: 'range', start: 0, end: 9 }, aggregate: { group_by: 'record % 2', metrics: Object.fromEntries(Array.from({ length: n }, (_, i) => [`m${i}`, { op: 'sum', expr: `record * ${i}` }])) } })
  const columns = (n: number): object => ({ source: { type: 'file', path: 'wide.csv', format: 'csv', columns: Object.fromEntries(Array.from({ length: n }, (_, i) => [`c${i}`, 'integer'])) } })
  for (const [payload, path] of [[metrics(257), 'aggregate.metrics'], [metrics(100_000), 'aggregate.metrics'], [columns(10_001), 'source.columns']] as const) {
    const body = assertProblem(await post(payload), 400, 'PARASCAN_LIMIT_EXCEEDED')
    assert.equal(body.errors[0].path, path)
    assert.match(body.errors[0].message, /at most (256|10000)$/)
  }
  assert.equal((await post(metrics(256))).statusCode, 202)
  assert.equal((await post(columns(10_000))).statusCode, 202)
})

test('admission: past PARASCAN_MAX_QUEUED_SCANS and the per-tenant bound, 429 with Retry-After; room again once a scan leaves the queue', async (t) => {
  const app = await build(t, {
    consume: false,
    env: { PARASCAN_MAX_QUEUED_SCANS: '3', PARASCAN_MAX_QUEUED_SCANS_PER_TENANT: '2', PARASCAN_API_KEYS: 'alpha:alpha-key-0123456789,beta:beta-key-0123456789' }
  })
  const scan = { source: { type: 'range', start: 0, end: 10 } }
  const post = async (key: string) => await app.inject({ method: 'POST', url: '/v1/scans', payload: scan, headers: { authorization: `Bearer ${key}` } })
  const a1 = await post('alpha-key-0123456789')
  assert.equal(a1.statusCode, 202)
  assert.equal((await post('alpha-key-0123456789')).statusCode, 202)
  const tenantFull = await post('alpha-key-0123456789')
  assert.match(assertProblem(tenantFull, 429, 'PARASCAN_TOO_MANY_QUEUED').detail, /PARASCAN_MAX_QUEUED_SCANS_PER_TENANT/)
  assert.equal(tenantFull.headers['retry-after'], '5')
  assert.equal((await post('beta-key-0123456789')).statusCode, 202)
  const allFull = await post('beta-key-0123456789')
  assert.match(assertProblem(allFull, 429, 'PARASCAN_TOO_MANY_QUEUED').detail, /PARASCAN_MAX_QUEUED_SCANS\)/)
  assert.equal(allFull.headers['retry-after'], '5')

  const cancel = await app.inject({ method: 'POST', url: `/v1/scans/${a1.json().id}/cancel`, headers: { authorization: 'Bearer alpha-key-0123456789' } })
  assert.equal(cancel.statusCode, 202)
  assert.equal((await post('beta-key-0123456789')).statusCode, 202, 'a cancelled scan frees its place')
})

test('admission on Redis is atomic and shared by instances: concurrent submits never queue more than the bounds', async () => {
  const prefix = uniquePrefix()
  closers.push(async () => await dropPrefix(prefix))
  const env = {
    REDIS_URL,
    PARASCAN_KEY_PREFIX: prefix,
    PARASCAN_CONCURRENCY: '0',
    PARASCAN_MAX_QUEUED_SCANS: '5',
    PARASCAN_MAX_QUEUED_SCANS_PER_TENANT: '3',
    PARASCAN_API_KEYS: 'alpha:alpha-key-0123456789,beta:beta-key-0123456789'
  }
  const one = await startServer(env)
  const two = await startServer(env)
  const post = async (server: RunningServer, key: string) => await server.app.inject({
    method: 'POST', url: '/v1/scans', payload: { source: { type: 'range', start: 0, end: 10 } }, headers: { authorization: `Bearer ${key}` }
  })
  const alpha = await Promise.all(Array.from({ length: 8 }, async (_, i) => await post(i % 2 === 0 ? one : two, 'alpha-key-0123456789')))
  assert.equal(alpha.filter((r) => r.statusCode === 202).length, 3)
  for (const refused of alpha.filter((r) => r.statusCode !== 202)) assertProblem(refused, 429, 'PARASCAN_TOO_MANY_QUEUED')
  const beta = await Promise.all(Array.from({ length: 6 }, async (_, i) => await post(i % 2 === 0 ? one : two, 'beta-key-0123456789')))
  assert.equal(beta.filter((r) => r.statusCode === 202).length, 2, 'the global bound of 5 leaves 2 for beta')
  const first = alpha.find((r) => r.statusCode === 202)!.json().id
  assert.equal((await one.app.inject({ method: 'POST', url: `/v1/scans/${first}/cancel`, headers: { authorization: 'Bearer alpha-key-0123456789' } })).statusCode, 202)
  assert.equal((await post(two, 'beta-key-0123456789')).statusCode, 202, 'a cancelled scan frees its place')
  assertProblem(await post(one, 'beta-key-0123456789'), 429, 'PARASCAN_TOO_MANY_QUEUED')
})

test('a scan past PARASCAN_SCAN_TIMEOUT or its own timeout_seconds fails with PARASCAN_SCAN_TIMEOUT; the instance goes on', async () => {
  const server = await startServer({ PARASCAN_SCAN_TIMEOUT: '600ms' })
  // The pool's first threads start before the first scan: a scan waiting for them meanwhile would time out while queued.
  await waitFor(async () => (await server.app.inject({ method: 'GET', url: '/readyz' })).statusCode === 200 ? true : undefined, 20_000)
  const slow = { source: { type: 'range', start: 0, end: 1_000_000 }, pipeline: [{ processor: 'synthetic', params: { cost_us: 50 } }] }
  for (const [payload, limitMs] of [[slow, 600], [{ ...slow, timeout_seconds: 0.2 }, 200]] as const) {
    const accepted = await server.app.inject({ method: 'POST', url: '/v1/scans', payload })
    assert.equal(accepted.statusCode, 202, accepted.body)
    const doc = await finished(server.app, accepted.json().id)
    assert.equal(doc.status, 'failed')
    assert.equal(doc.error.code, 'PARASCAN_SCAN_TIMEOUT')
    assert.match(doc.error.message, new RegExp(`${limitMs / 1000} s`))
    const ranMs = Date.parse(doc.finished_at) - Date.parse(doc.started_at)
    assert.ok(ranMs >= limitMs - 5 && ranMs < limitMs + 2000, `stopped after ${ranMs} ms`)
    assert.ok(doc.progress.processed < 1_000_000)
  }
  const next = await server.app.inject({ method: 'POST', url: '/v1/scans', payload: { source: { type: 'range', start: 0, end: 1000 } } })
  const doc = await finished(server.app, next.json().id)
  assert.equal(doc.status, 'succeeded', JSON.stringify(doc.error))
  assert.equal(doc.result.count, 1000)
})

test('a scan stuck inside one record (nested all macros, a billion steps) still times out, and the instance goes on', async () => {
  // A time limit that a loaded machine still meets for the small scan after it; the stuck record needs far longer.
  const server = await startServer({ PARASCAN_SCAN_TIMEOUT: '3s', PARASCAN_RECORD_TIME_LIMIT: '0' })
  // The pool's first threads start before the first scan: a scan waiting for them meanwhile would time out while queued.
  await waitFor(async () => (await server.app.inject({ method: 'GET', url: '/readyz' })).statusCode === 200 ? true : undefined, 20_000)
  const records = [{ l: [1] }, { l: Array.from({ length: 1000 }, (_, i) => i) }, { l: [2] }]
  const accepted = await server.app.inject({
    method: 'POST', url: '/v1/scans', payload: { source: { type: 'inline', records }, pipeline: [{ filter: 'record.l.all(a, record.l.all(b, record.l.all(c, a + b + c >= 0.0)))' }] }
  })
  assert.equal(accepted.statusCode, 202, accepted.body)
  const doc = await finished(server.app, accepted.json().id)
  assert.equal(doc.status, 'failed')
  assert.equal(doc.error.code, 'PARASCAN_SCAN_TIMEOUT')
  const next = await server.app.inject({ method: 'POST', url: '/v1/scans', payload: { source: { type: 'range', start: 0, end: 1000 } } })
  assert.equal((await finished(server.app, next.json().id)).result.count, 1000)
})

test('PARASCAN_MAX_RESULTS caps a scan that gives no max_results', async () => {
  const server = await startServer({ PARASCAN_MAX_RESULTS: '100' })
  const accepted = await server.app.inject({ method: 'POST', url: '/v1/scans', payload: { source: { type: 'range', start: 0, end: 5000 } } })
  const doc = await finished(server.app, accepted.json().id)
  assert.equal(doc.status, 'succeeded')
  assert.deepEqual(doc.result, { count: 100, truncated: true, partial: false })
  assert.equal(doc.progress.matched, 5000)
})

test('limit settings are checked at start and a bad one is named', () => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ PARASCAN_MAX_INLINE_RECORDS: '-1' }, /PARASCAN_MAX_INLINE_RECORDS/],
    [{ PARASCAN_MAX_EXPRESSION_LENGTH: '0' }, /PARASCAN_MAX_EXPRESSION_LENGTH/],
    [{ PARASCAN_MAX_PIPELINE_STEPS: 'many' }, /PARASCAN_MAX_PIPELINE_STEPS/],
    [{ PARASCAN_MAX_RESULTS: '1e9' }, /PARASCAN_MAX_RESULTS/],
    [{ PARASCAN_SCAN_TIMEOUT: 'soon' }, /PARASCAN_SCAN_TIMEOUT/],
    [{ PARASCAN_SCAN_TIMEOUT: '0' }, /PARASCAN_SCAN_TIMEOUT/],
    [{ PARASCAN_MAX_QUEUED_SCANS: '0' }, /PARASCAN_MAX_QUEUED_SCANS/],
    [{ PARASCAN_MAX_QUEUED_SCANS_PER_TENANT: 'x' }, /PARASCAN_MAX_QUEUED_SCANS_PER_TENANT/],
    [{ PARASCAN_API_KEYS: 'nokey' }, /PARASCAN_API_KEYS.*tenant:key/],
    [{ PARASCAN_API_KEYS: 'a:short' }, /PARASCAN_API_KEYS.*16 characters/],
    [{ PARASCAN_API_KEYS: 'a:sha256:abc' }, /PARASCAN_API_KEYS.*64 hex/],
    [{ PARASCAN_API_KEYS: 'a b:long-enough-key-1234' }, /PARASCAN_API_KEYS.*tenant/],
    [{ PARASCAN_API_KEYS: '.:long-enough-key-1234' }, /PARASCAN_API_KEYS.*tenant "\." is only dots/],
    [{ PARASCAN_API_KEYS: '..:long-enough-key-1234' }, /PARASCAN_API_KEYS.*tenant "\.\." is only dots/],
    [{ PARASCAN_API_KEYS: 'a/b:long-enough-key-1234' }, /PARASCAN_API_KEYS.*tenant "a\/b" must be/],
    [{ PARASCAN_API_KEYS: ':long-enough-key-1234' }, /PARASCAN_API_KEYS.*not tenant:key/],
    [{ PARASCAN_API_KEYS: 'a:fifteen-chars!' }, /PARASCAN_API_KEYS.*16 characters/],
    [{ PARASCAN_MAX_VALUE_BYTES: '10' }, /PARASCAN_MAX_VALUE_BYTES/],
    [{ PARASCAN_MAX_RESULT_BYTES: 'big' }, /PARASCAN_MAX_RESULT_BYTES/],
    [{ PARASCAN_MAX_GROUPS: '0' }, /PARASCAN_MAX_GROUPS/],
    [{ PARASCAN_MAX_SCAN_RESULT_BYTES: '-5' }, /PARASCAN_MAX_SCAN_RESULT_BYTES/],
    [{ PARASCAN_MAX_PAGE_BYTES: '1.5' }, /PARASCAN_MAX_PAGE_BYTES/],
    [{ PARASCAN_API_KEYS: 'a:long-enough-key-1234,b:long-enough-key-1234' }, /PARASCAN_API_KEYS.*twice/],
    [{ PARASCAN_RATE_LIMIT: '-5' }, /PARASCAN_RATE_LIMIT/],
    [{ PARASCAN_RATE_LIMIT_WINDOW: 'hour' }, /PARASCAN_RATE_LIMIT_WINDOW/],
    [{ PARASCAN_DATA_DIR_PER_TENANT: 'yes' }, /PARASCAN_DATA_DIR_PER_TENANT/],
    [{ PARASCAN_DATA_DIR_PER_TENANT: 'true' }, /PARASCAN_DATA_DIR_PER_TENANT.*PARASCAN_API_KEYS/]
  ]
  for (const [env, pattern] of cases) {
    assert.throws(() => loadServiceConfig(env), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'PARASCAN_INVALID_ENVIRONMENT')
      assert.match(error.message, pattern)
      return true
    }, JSON.stringify(env))
  }
  const config = loadServiceConfig({ PARASCAN_API_KEYS: `a:key-of-tenant-a-1234, b:sha256:${'ab'.repeat(32)}`, PARASCAN_SCAN_TIMEOUT: '90s' })
  assert.deepEqual(config.apiKeys?.map((entry) => entry.tenant), ['a', 'b'])
  assert.equal(config.scanTimeoutMs, 90_000)
  assert.equal(config.rateLimit, 0)
})
