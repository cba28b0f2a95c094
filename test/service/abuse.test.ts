import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { gzipSync } from 'node:zlib'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import type { RunningServer } from '../../src/server.js'
import { dropPrefix, http, realServer, REDIS_URL, tempDataDir, uniquePrefix, waitFor } from '../helpers/service-harness.js'
import { freePort } from '../helpers/free-port.js'

const closers: Array<() => Promise<void>> = []
after(async () => { for (const close of closers.reverse()) await close() })

async function start (env: Record<string, string> = {}): Promise<RunningServer> {
  const server = await realServer(env)
  closers.push(async () => await server.close())
  return server
}

async function finished (base: string, id: string, headers: Record<string, string> = {}, timeoutMs = 30_000): Promise<any> {
  return await waitFor(async () => {
    const doc = (await http(base, 'GET', `/v1/scans/${id}`, undefined, headers)).json
    return ['succeeded', 'failed', 'cancelled'].includes(doc.status) ? doc : undefined
  }, timeoutMs, 50)
}

async function submit (base: string, body: unknown, headers: Record<string, string> = {}): Promise<string> {
  const accepted = await http(base, 'POST', '/v1/scans', body, headers)
  assert.equal(accepted.status, 202, JSON.stringify(accepted.json))
  return accepted.json.id
}

const doublings = (n: number, expr = 'record + record'): Array<{ map: string }> => Array.from({ length: n }, () => ({ map: expr }))

test('values that grow without bound fail their record with PARASCAN_VALUE_TOO_LARGE; the instance answers /healthz throughout and runs the next scan', async () => {
  const server = await start({ PARASCAN_MAX_VALUE_BYTES: String(1024 * 1024) })
  let healthy = 0
  let unhealthy = 0
  const probe = setInterval(() => {
    http(server.url, 'GET', '/healthz').then((r) => { if (r.status === 200) healthy++; else unhealthy++ }, () => { unhealthy++ })
  }, 100)
  try {
    // The 930-byte request: a list doubled 31 times.
    const list = { source: { type: 'inline', records: [[0]] }, pipeline: doublings(31) }
    assert.ok(JSON.stringify(list).length < 1000)
    const attacks: Array<[unknown, RegExp]> = [
      [list, /pipeline\[\d+\]\.map: the value is over 1048576 bytes \(PARASCAN_MAX_VALUE_BYTES\)/],
      [{ source: { type: 'range', start: 0, end: 16 }, pipeline: [{ map: 'string(record)' }, ...doublings(30)] }, /the value is over/],
      [{ source: { type: 'inline', records: [{ a: 1 }] }, pipeline: doublings(30, '{"l": record, "r": record}') }, /the value is over/],
      [{ source: { type: 'inline', records: [[1, 2]] }, pipeline: doublings(30, 'record.map(x, record)') }, /the value is over/],
      [{ source: { type: 'inline', records: ['€'] }, pipeline: doublings(24) }, /the value is over/]
    ]
    for (const [body, message] of attacks) {
      const doc = await finished(server.url, await submit(server.url, body))
      assert.equal(doc.status, 'failed', JSON.stringify(doc))
      assert.equal(doc.error.code, 'PARASCAN_VALUE_TOO_LARGE')
      assert.match(doc.error.message, message)
      assert.equal(typeof doc.error.offset, 'number')
    }
    const skip = await finished(server.url, await submit(server.url, {
      source: { type: 'range', start: 0, end: 8 }, pipeline: [{ map: 'record < 4 ? string(record) : ""' }, ...doublings(21)], on_error: 'skip'
    }))
    assert.equal(skip.status, 'succeeded')
    assert.equal(skip.progress.skipped, 4, 'on_error skip: the four records that grew are skipped, the others kept')
    assert.match(skip.errors[0].message, /PARASCAN_MAX_VALUE_BYTES/)
    const next = await finished(server.url, await submit(server.url, { source: { type: 'range', start: 0, end: 1000 } }))
    assert.equal(next.status, 'succeeded')
    assert.equal(next.result.count, 1000)
  } finally {
    clearInterval(probe)
  }
  assert.equal(unhealthy, 0)
  assert.ok(healthy > 0)
  assert.ok(process.memoryUsage().rss < 1024 ** 3, `rss ${process.memoryUsage().rss}`)
})

test('a result is measured in UTF-8 bytes against PARASCAN_MAX_RESULT_BYTES; aggregates are bounded by PARASCAN_MAX_GROUPS and the group size', async () => {
  const server = await start({ PARASCAN_MAX_RESULT_BYTES: '100000', PARASCAN_MAX_GROUPS: '50' })
  // 2^16 = 65536 characters of three bytes each: under the limit in characters, over it in bytes.
  const euro = await finished(server.url, await submit(server.url, { source: { type: 'inline', records: ['€'] }, pipeline: doublings(16) }))
  assert.equal(euro.error?.code, 'PARASCAN_VALUE_TOO_LARGE', JSON.stringify(euro))
  assert.match(euro.error.message, /result: the result is over 100000 bytes \(PARASCAN_MAX_RESULT_BYTES\)/)
  const ascii = await finished(server.url, await submit(server.url, { source: { type: 'inline', records: ['a'] }, pipeline: doublings(16) }))
  assert.equal(ascii.status, 'succeeded', 'the same length in ASCII fits')
  const groups = await finished(server.url, await submit(server.url, { source: { type: 'range', start: 0, end: 10_000 }, aggregate: { group_by: 'record', metrics: { n: { op: 'count' } } } }))
  assert.equal(groups.status, 'failed')
  assert.equal(groups.error.code, 'PARASCAN_TOO_MANY_GROUPS')
  const fifty = await finished(server.url, await submit(server.url, { source: { type: 'range', start: 0, end: 10_000 }, aggregate: { group_by: 'record % 50', metrics: { n: { op: 'count' } } } }))
  assert.equal(fifty.status, 'succeeded')
  assert.equal(fifty.result.count, 50)
})

test('a scan whose stored results pass PARASCAN_MAX_SCAN_RESULT_BYTES fails with PARASCAN_RESULTS_TOO_LARGE and Redis holds no more than that (Redis)', async () => {
  const prefix = uniquePrefix()
  closers.push(async () => await dropPrefix(prefix))
  const limit = 256 * 1024
  const server = await start({ REDIS_URL, PARASCAN_KEY_PREFIX: prefix, PARASCAN_MAX_SCAN_RESULT_BYTES: String(limit) })
  // 4,000 results of about 1 KiB: 4 MiB if nothing stopped it.
  const id = await submit(server.url, { source: { type: 'range', start: 0, end: 4000 }, pipeline: [{ map: 'string(record) + "-"' }, ...doublings(8)] })
  const doc = await finished(server.url, id)
  assert.equal(doc.status, 'failed')
  assert.equal(doc.error.code, 'PARASCAN_RESULTS_TOO_LARGE')
  assert.match(doc.error.message, /PARASCAN_MAX_SCAN_RESULT_BYTES/)
  const redis = new Redis(REDIS_URL)
  try {
    const keys = await redis.keys(`${prefix}:scan:{${id}}:pages:*`)
    let bytes = 0
    for (const key of keys) for (const page of await redis.lrange(key, 0, -1)) bytes += Buffer.byteLength(page)
    assert.ok(bytes <= limit, `${bytes} bytes stored`)
  } finally {
    redis.disconnect()
  }
  const small = await finished(server.url, await submit(server.url, { source: { type: 'range', start: 0, end: 100 }, pipeline: [{ map: 'string(record)' }] }))
  assert.equal(small.status, 'succeeded')
})

test('a results page stops at PARASCAN_MAX_PAGE_BYTES; following the cursors reads every result once', async () => {
  const server = await start({ PARASCAN_MAX_PAGE_BYTES: '2048' })
  const id = await submit(server.url, { source: { type: 'range', start: 0, end: 300 }, ordered: true, pipeline: [{ map: '{"n": record, "pad": "' + 'x'.repeat(80) + '"}' }] })
  assert.equal((await finished(server.url, id)).status, 'succeeded')
  const seen: number[] = []
  let cursor: string | undefined
  let pages = 0
  for (;;) {
    const page = await http(server.url, 'GET', `/v1/scans/${id}/results?limit=10000${cursor === undefined ? '' : `&cursor=${cursor}`}`)
    assert.equal(page.status, 200)
    pages++
    const bytes = Buffer.byteLength(JSON.stringify(page.json.items))
    assert.ok(bytes <= 2048 + 200, `page of ${bytes} bytes`)
    seen.push(...page.json.items.map((item: { n: number }) => item.n))
    if (page.json.complete === true) break
    cursor = page.json.next_cursor
  }
  assert.ok(pages > 10)
  assert.deepEqual(seen, Array.from({ length: 300 }, (_, i) => i))
  const big = await submit(server.url, { source: { type: 'inline', records: ['y'.repeat(5000)] } })
  await finished(server.url, big)
  const one = await http(server.url, 'GET', `/v1/scans/${big}/results`)
  assert.equal(one.json.items.length, 1, 'a page holds at least one item, however large')
})

test('matches runs in linear time (RE2): a pattern that backtracks in JavaScript finishes at once; a pattern that is not RE2 is a 400', async () => {
  const server = await start({ PARASCAN_SCAN_TIMEOUT: '20s' })
  const records = [...Array.from({ length: 200 }, (_, i) => `${'a'.repeat(30 + (i % 20))}!`), 'aaaa', 'b']
  const began = Date.now()
  const doc = await finished(server.url, await submit(server.url, { source: { type: 'inline', records }, ordered: true, pipeline: [{ filter: 'record.matches("^(a+)+$")' }] }))
  assert.equal(doc.status, 'succeeded')
  assert.ok(Date.now() - began < 10_000, `${Date.now() - began} ms`)
  const results = await http(server.url, 'GET', `/v1/scans/${doc.id}/results`)
  assert.deepEqual(results.json.items, ['aaaa'])
  const partial = await finished(server.url, await submit(server.url, { source: { type: 'inline', records: ['xaby', 'xy'] }, pipeline: [{ filter: 'record.matches("ab")' }] }))
  assert.equal(partial.result.count, 1, 'matches finds the pattern anywhere, as RE2 PartialMatch does')
  const lookahead = await http(server.url, 'POST', '/v1/scans', { source: { type: 'inline', records: ['a'] }, pipeline: [{ filter: 'record.matches("a(?=b)")' }] })
  assert.equal(lookahead.status, 400)
  assert.equal(lookahead.json.errors[0].path, 'pipeline[0].filter')
  assert.match(lookahead.json.errors[0].message, /RE2 syntax/)
  const dynamic = await finished(server.url, await submit(server.url, { source: { type: 'inline', records: [{ s: 'a', p: '(' }] }, pipeline: [{ filter: 'record.s.matches(record.p)' }] }))
  assert.equal(dynamic.status, 'failed')
  assert.match(dynamic.error.message, /invalid regular expression/)
})

test('a cursor past the end of the results is a 400 PARASCAN_INVALID_CURSOR', async () => {
  const server = await start()
  const id = await submit(server.url, { source: { type: 'range', start: 0, end: 10 } })
  await finished(server.url, id)
  const first = await http(server.url, 'GET', `/v1/scans/${id}/results?limit=3`)
  const [attempt, page, offset] = JSON.parse(Buffer.from(first.json.next_cursor, 'base64url').toString()) as [string, number, number]
  const forge = (p: number, o: number): string => Buffer.from(JSON.stringify([attempt, p, o])).toString('base64url')
  assert.equal((await http(server.url, 'GET', `/v1/scans/${id}/results?cursor=${forge(page, offset)}`)).status, 200)
  for (const [p, o] of [[page + 100, 0], [page + 1, 50], [page, offset + 1000]]) {
    const answer = await http(server.url, 'GET', `/v1/scans/${id}/results?cursor=${forge(p, o)}`)
    assert.equal(answer.status, 400, `page ${p} offset ${o}: ${JSON.stringify(answer.json)}`)
    assert.equal(answer.json.code, 'PARASCAN_INVALID_CURSOR')
  }
})

for (const mode of ['embedded', 'redis'] as const) {
  test(`deleting a scan forgets its Idempotency-Key: the same key and body then make a new scan (${mode})`, async () => {
    const env: Record<string, string> = {}
    if (mode === 'redis') {
      env.REDIS_URL = REDIS_URL
      env.PARASCAN_KEY_PREFIX = uniquePrefix()
      closers.push(async () => await dropPrefix(env.PARASCAN_KEY_PREFIX))
    }
    const server = await start(env)
    const body = { source: { type: 'range', start: 0, end: 5 } }
    const headers = { 'idempotency-key': 'k-1' }
    const first = await submit(server.url, body, headers)
    await finished(server.url, first)
    assert.equal((await http(server.url, 'POST', '/v1/scans', body, headers)).json.id, first, 'before the delete the key answers with the first scan')
    assert.equal((await http(server.url, 'DELETE', `/v1/scans/${first}`)).status, 204)
    const again = await http(server.url, 'POST', '/v1/scans', body, headers)
    assert.equal(again.status, 202)
    assert.notEqual(again.json.id, first)
    assert.equal((await finished(server.url, again.json.id)).status, 'succeeded')
    assert.equal((await http(server.url, 'GET', `/v1/scans/${first}`)).status, 404, 'the deleted scan stays deleted')
  })
}

test('file errors name the path as given, never a server path; an unknown processor is told the known ones only', async () => {
  const dataDir = tempDataDir()
  const processorsDir = mkdtempSync(join(tmpdir(), 'parascan-plugins-'))
  writeFileSync(join(processorsDir, 'broken.mjs'), 'throw new Error("broken at " + import.meta.url)\n')
  const server = await start({ DATA_DIR: dataDir, PROCESSORS_DIR: processorsDir })
  for (const path of ['x'.repeat(5000), `${'a/'.repeat(3000)}b`, 'missing.ndjson', 'dir/../../etc/passwd']) {
    const answer = await http(server.url, 'POST', '/v1/scans', { source: { type: 'file', path, format: 'ndjson' } })
    assert.ok(answer.status >= 400 && answer.status < 500, String(answer.status))
    const text = JSON.stringify(answer.json)
    assert.ok(!text.includes(dataDir) && !text.includes(tmpdir()), text.slice(0, 300))
  }
  const unknown = await http(server.url, 'POST', '/v1/scans', { source: { type: 'range', start: 0, end: 1 }, pipeline: [{ processor: 'nope' }] })
  assert.equal(unknown.status, 400)
  assert.match(unknown.json.errors[0].message, /unknown processor "nope"; known: synthetic$/)
  assert.ok(!JSON.stringify(unknown.json).includes(processorsDir))
})

test('repeated wrong keys from one address are braked: after PARASCAN_AUTH_FAILURE_LIMIT of them every request from it is a 429 with Retry-After, even with a right key', async () => {
  const key = 'a-key-that-is-long-enough'
  const server = await start({ PARASCAN_API_KEYS: `a:${key}`, PARASCAN_AUTH_FAILURE_LIMIT: '5', PARASCAN_AUTH_FAILURE_WINDOW: '2s' })
  assert.equal((await http(server.url, 'GET', '/v1/scans', undefined, { authorization: `Bearer ${key}` })).status, 200)
  const statuses: number[] = []
  for (let i = 0; i < 8; i++) statuses.push((await http(server.url, 'GET', '/v1/scans', undefined, { authorization: `Bearer guess-${i}-xxxxxxxxxxxx` })).status)
  assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429, 429, 429])
  const braked = await http(server.url, 'GET', '/v1/scans', undefined, { authorization: `Bearer ${key}` })
  assert.equal(braked.status, 429)
  assert.equal(braked.json.code, 'PARASCAN_RATE_LIMITED')
  assert.ok(Number(braked.headers.get('retry-after')) >= 1)
  assert.equal((await http(server.url, 'GET', '/healthz')).status, 200, 'open routes are not braked')
  await new Promise((resolve) => setTimeout(resolve, 2100))
  assert.equal((await http(server.url, 'GET', '/v1/scans', undefined, { authorization: `Bearer ${key}` })).status, 200, 'the brake ends with its window')
})

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url))

async function childInstance (env: Record<string, string>): Promise<{ child: ChildProcess, url: string, exited: Promise<string> }> {
  const port = await freePort()
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'silent', PROTO_PARALLEL_MAX_WORKERS: '2', DATA_DIR: tempDataDir(), ...env },
    stdio: ['ignore', 'ignore', 'pipe']
  })
  closers.push(async () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? String(code))))
  const url = `http://127.0.0.1:${port}`
  await waitFor(async () => {
    try {
      return (await fetch(`${url}/readyz`)).ok ? true : undefined
    } catch {
      return undefined
    }
  }, 60_000, 100)
  return { child, url, exited }
}

test('a scan that kills its instance is not run again: the next instance fails it with PARASCAN_INSTANCE_CRASHED and stays up (Redis)', async () => {
  const prefix = uniquePrefix()
  closers.push(async () => await dropPrefix(prefix))
  const processorsDir = mkdtempSync(join(tmpdir(), 'parascan-plugins-'))
  writeFileSync(join(processorsDir, 'kill.mjs'), [
    'export const name = "kill_instance"',
    'export const schema = { safeParse: (value) => ({ success: true, data: value }) }',
    'export function process (record) { if (record === 500) globalThis.process.kill(globalThis.process.pid, "SIGKILL"); return record }'
  ].join('\n'))
  const env = { REDIS_URL, PARASCAN_KEY_PREFIX: prefix, PARASCAN_LOCK_DURATION: '2s', PROCESSORS_DIR: processorsDir }
  const first = await childInstance(env)
  const id = await submit(first.url, { source: { type: 'range', start: 0, end: 1000 }, pipeline: [{ processor: 'kill_instance' }] })
  assert.equal(await first.exited, 'SIGKILL', 'the plug-in killed the first instance')
  const second = await childInstance(env)
  const doc = await finished(second.url, id, {}, 90_000)
  assert.equal(doc.status, 'failed')
  assert.equal(doc.error.code, 'PARASCAN_INSTANCE_CRASHED')
  assert.match(doc.error.message, /PARASCAN_MAX_CRASHED_ATTEMPTS/)
  assert.equal(second.child.exitCode, null, 'the second instance is still running')
  assert.equal((await http(second.url, 'GET', '/healthz')).status, 200)
  const next = await finished(second.url, await submit(second.url, { source: { type: 'range', start: 0, end: 100 } }))
  assert.equal(next.status, 'succeeded')
})

test('fairness: a tenant over its share of running scans (PARASCAN_MAX_RUNNING_SCANS_PER_TENANT=1) waits behind another tenant\'s scan that came later (Redis, two instances)', async () => {
  const prefix = uniquePrefix()
  closers.push(async () => await dropPrefix(prefix))
  const keyA = 'tenant-a-key-0123456789'
  const keyB = 'tenant-b-key-0123456789'
  const env = { REDIS_URL, PARASCAN_KEY_PREFIX: prefix, PARASCAN_API_KEYS: `a:${keyA},b:${keyB}`, PARASCAN_LOCK_DURATION: '5s' }
  const one = await start(env)
  const two = await start(env)
  const a = { authorization: `Bearer ${keyA}` }
  const b = { authorization: `Bearer ${keyB}` }
  const scan = (end: number): object => ({ source: { type: 'range', start: 0, end }, pipeline: [{ processor: 'synthetic', params: { cost_us: 20 } }], parallel: { max_workers: 1 } })
  const status = async (id: string, headers: Record<string, string>): Promise<string> => (await http(one.url, 'GET', `/v1/scans/${id}`, undefined, headers)).json.status
  // a fills both instances (nobody else waits, so it may), then queues a third scan; b queues one after it.
  const short = await submit(one.url, scan(30_000), a)
  const long = await submit(one.url, scan(10_000_000), a)
  await waitFor(async () => (await status(short, a)) === 'running' && (await status(long, a)) === 'running' ? true : undefined, 60_000, 50)
  const third = await submit(one.url, scan(10_000_000), a)
  const fromB = await submit(two.url, { source: { type: 'range', start: 0, end: 1000 } }, b)
  const doc = await finished(two.url, fromB, b, 90_000)
  assert.equal(doc.status, 'succeeded')
  assert.equal(await status(short, a), 'succeeded')
  assert.equal(await status(third, a), 'queued', 'the third scan of a let the later scan of b go first')
  await waitFor(async () => (await status(third, a)) === 'running' ? true : undefined, 60_000, 100)
  for (const id of [long, third]) await http(one.url, 'POST', `/v1/scans/${id}/cancel`, undefined, a)
})

test('an ordered scan whose record 0 is stuck while the others make 200-character results holds a bounded number of bytes (max_results 10)', async () => {
  const processorsDir = mkdtempSync(join(tmpdir(), 'parascan-plugins-'))
  writeFileSync(join(processorsDir, 'stuck.mjs'), [
    'export const name = "stuck_first"',
    'export const schema = { safeParse: (value) => ({ success: true, data: value }) }',
    'export function process (record, params, offset) { if (offset === 0) { const end = Date.now() + 6000; while (Date.now() < end); } return `${record}:${"x".repeat(200)}` }'
  ].join('\n'))
  const server = await start({ PROCESSORS_DIR: processorsDir, PARASCAN_SCAN_TIMEOUT: '8s' })
  const before = process.memoryUsage().rss
  let peak = before
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss) }, 50)
  try {
    const id = await submit(server.url, { source: { type: 'range', start: 0, end: 20_000_000 }, ordered: true, max_results: 10, pipeline: [{ processor: 'stuck_first' }] })
    const doc = await finished(server.url, id, {}, 60_000)
    assert.ok(doc.status === 'failed' || doc.status === 'succeeded', doc.status)
    assert.ok(doc.result.count <= 10)
  } finally {
    clearInterval(sampler)
  }
  const grew = peak - before
  process.stdout.write(`# ordered scan with a stuck record 0: RSS grew by ${Math.round(grew / 2 ** 20)} MiB\n`)
  assert.ok(grew < 400 * 2 ** 20, `RSS grew by ${grew} bytes`)
  assert.equal((await http(server.url, 'GET', '/healthz')).status, 200)
})

test('a value that outgrows a worker thread\'s heap inside one step fails its scan with PARASCAN_WORKER_OUT_OF_MEMORY; the instance and its store live on', async () => {
  const server = await start({ PARASCAN_WORKER_HEAP_MB: '64', PARASCAN_RECORD_TIME_LIMIT: '0' })
  const earlier = await submit(server.url, { source: { type: 'range', start: 0, end: 100 } })
  assert.equal((await finished(server.url, earlier)).status, 'succeeded')
  // Each step concatenates 400 copies of its input (under the value limit after two steps); the third needs half a gigabyte at once.
  const concat = Array.from({ length: 400 }, () => 'record').join(' + ')
  const doc = await finished(server.url, await submit(server.url, { source: { type: 'inline', records: [[0]] }, pipeline: [{ map: concat }, { map: concat }, { map: concat }] }), {}, 90_000)
  assert.equal(doc.status, 'failed')
  assert.equal(doc.error.code, 'PARASCAN_WORKER_OUT_OF_MEMORY', JSON.stringify(doc.error))
  assert.equal((await http(server.url, 'GET', '/healthz')).status, 200)
  assert.equal((await http(server.url, 'GET', `/v1/scans/${earlier}`)).json.status, 'succeeded', 'the store kept the earlier scan')
  const next = await finished(server.url, await submit(server.url, { source: { type: 'range', start: 0, end: 1000 } }))
  assert.equal(next.status, 'succeeded')
  assert.equal(next.result.count, 1000)
})

test('a record stuck inside one expression (nested all macros) fails alone after PARASCAN_RECORD_TIME_LIMIT; with on_error skip the scan goes on', async () => {
  const server = await start({ PARASCAN_RECORD_TIME_LIMIT: '1s' })
  const stuck = { l: Array.from({ length: 1000 }, (_, i) => i) }
  const body = { source: { type: 'inline', records: [{ l: [1] }, stuck, { l: [2] }] }, ordered: true, pipeline: [{ filter: 'record.l.all(a, record.l.all(b, record.l.all(c, a + b + c >= 0.0)))' }] }
  const began = Date.now()
  const failed = await finished(server.url, await submit(server.url, body), {}, 60_000)
  assert.equal(failed.status, 'failed')
  assert.equal(failed.error.code, 'PARASCAN_RECORD_TIME_LIMIT')
  assert.equal(failed.error.offset, 1)
  assert.ok(Date.now() - began < 30_000, `${Date.now() - began} ms`)
  const skipped = await finished(server.url, await submit(server.url, { ...body, on_error: 'skip' }), {}, 60_000)
  assert.equal(skipped.status, 'succeeded')
  assert.equal(skipped.progress.skipped, 1)
  assert.equal(skipped.result.count, 2)
})

/** Sends `head` on a raw socket, then `trickle` one byte every `everyMs`; resolves with what the server answered and when. */
async function rawExchange (url: string, head: string, trickle = '', everyMs = 500): Promise<{ text: string, ms: number }> {
  const { hostname, port } = new URL(url)
  const socket = connect(Number(port), hostname)
  const began = Date.now()
  let text = ''
  socket.on('data', (chunk: Buffer) => { text += chunk.toString('utf8') })
  socket.write(head)
  let i = 0
  const timer = setInterval(() => { if (i < trickle.length && socket.writable) socket.write(trickle[i++]) }, everyMs)
  await new Promise<void>((resolve) => { socket.on('close', () => resolve()); socket.on('error', () => resolve()) })
  clearInterval(timer)
  return { text, ms: Date.now() - began }
}

function problemOf (text: string): { status: number, body: any, type: string } {
  const [head, body] = text.split('\r\n\r\n')
  return { status: Number(head.split(' ')[1]), type: /content-type: ([^\r]+)/i.exec(head)?.[1] ?? '', body: JSON.parse(body) }
}

test('a body sent one byte at a time is cut off after PARASCAN_REQUEST_TIMEOUT with a 408 problem+json; slow headers after PARASCAN_HEADERS_TIMEOUT; a huge request line is a 431 problem+json', async () => {
  const server = await start({ PARASCAN_REQUEST_TIMEOUT: '2s', PARASCAN_HEADERS_TIMEOUT: '1s' })
  const slowBody = await rawExchange(server.url, 'POST /v1/scans HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{', 'x'.repeat(100), 300)
  const body = problemOf(slowBody.text)
  assert.equal(body.status, 408)
  assert.match(body.type, /^application\/problem\+json/)
  assert.equal(body.body.code, 'PARASCAN_REQUEST_TIMEOUT')
  assert.ok(slowBody.ms < 8000, `cut off after ${slowBody.ms} ms`)
  const slowHeaders = await rawExchange(server.url, 'GET /v1/scans HTTP/1.1\r\nHost: x\r\n', 'X-Slow: 1234567890123456789012345678901234567890', 200)
  assert.equal(problemOf(slowHeaders.text).status, 408)
  assert.equal(problemOf(slowHeaders.text).body.code, 'PARASCAN_REQUEST_TIMEOUT')
  assert.ok(slowHeaders.ms < 6000, `cut off after ${slowHeaders.ms} ms`)
  const long = problemOf((await rawExchange(server.url, `GET /v1/scans?x=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`)).text)
  assert.equal(long.status, 431)
  assert.match(long.type, /^application\/problem\+json/)
  assert.equal(long.body.code, 'PARASCAN_HEADERS_TOO_LARGE')
  assert.equal((await http(server.url, 'GET', '/healthz')).status, 200)
})

test('PARASCAN_MAX_CONNECTIONS caps open connections: one more is closed at once, and served again once one closes', async () => {
  const server = await start({ PARASCAN_MAX_CONNECTIONS: '3' })
  const { hostname, port } = new URL(server.url)
  const open = await Promise.all(Array.from({ length: 3 }, async () => await new Promise<Socket>((resolve) => { const s = connect(Number(port), hostname, () => resolve(s)) })))
  await new Promise((resolve) => setTimeout(resolve, 200))
  const extra = await rawExchange(server.url, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
  assert.equal(extra.text, '', 'the fourth connection got no answer')
  open[0].destroy()
  await new Promise((resolve) => setTimeout(resolve, 200))
  const again = await rawExchange(server.url, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
  assert.match(again.text, /^HTTP\/1.1 200/)
  for (const socket of open) socket.destroy()
})

test('a compressed body is a 415 problem+json; __proto__ inside inline records is data, at the top of the body an unknown key; messages say each thing once', async () => {
  const server = await start({ PARASCAN_RATE_LIMIT: '1000', PARASCAN_RATE_LIMIT_WINDOW: '1m' })
  const gzipped = await fetch(`${server.url}/v1/scans`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gzipSync(JSON.stringify({ source: { type: 'range', start: 0, end: 1 } })) })
  assert.equal(gzipped.status, 415)
  assert.match(gzipped.headers.get('content-type') ?? '', /^application\/problem\+json/)
  assert.match((await gzipped.json() as { detail: string }).detail, /Content-Encoding gzip is not supported/)
  const text = '{"source":{"type":"inline","records":[{"__proto__":{"admin":true},"constructor":{"prototype":1},"n":1}]},"pipeline":[{"filter":"record.n == 1.0"},{"map":"record"}]}'
  const accepted = await fetch(`${server.url}/v1/scans`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text })
  assert.equal(accepted.status, 202, await accepted.clone().text())
  const id = (await accepted.json() as { id: string }).id
  assert.equal((await finished(server.url, id)).status, 'succeeded')
  const results = await (await fetch(`${server.url}/v1/scans/${id}/results`)).text()
  assert.match(results, /"items":\[\{"__proto__":\{"admin":true\},"constructor":\{"prototype":1\},"n":1\}\]/)
  assert.equal(({} as Record<string, unknown>).admin, undefined)
  const top = await fetch(`${server.url}/v1/scans`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"__proto__":{"x":1},"source":{"type":"range","start":0,"end":3}}' })
  assert.equal(top.status, 400)
  assert.doesNotMatch(JSON.stringify(await top.json()), /not valid JSON/i)
})

test('SIGTERM while Redis is gone: the instance exits within SHUTDOWN_GRACE and a few seconds; /readyz says why once (Redis)', async () => {
  const redisPort = await freePort()
  const redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  closers.push(async () => { if (redis.exitCode === null) redis.kill('SIGKILL') })
  await waitFor(async () => {
    const probe = new Redis(redisPort, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 })
    probe.on('error', () => {})
    try {
      await probe.connect()
      return await probe.ping() === 'PONG' ? true : undefined
    } catch {
      return undefined
    } finally {
      probe.disconnect()
    }
  }, 10_000, 100)
  const instance = await childInstance({ REDIS_URL: `redis://127.0.0.1:${redisPort}`, SHUTDOWN_GRACE: '2s', PARASCAN_LOCK_DURATION: '5s' })
  await submit(instance.url, { source: { type: 'range', start: 0, end: 100_000_000 }, pipeline: [{ processor: 'synthetic', params: { cost_us: 10 } }] })
  await new Promise((resolve) => setTimeout(resolve, 1000))
  redis.kill('SIGKILL')
  await new Promise((resolve) => setTimeout(resolve, 500))
  const ready = await http(instance.url, 'GET', '/readyz')
  assert.equal(ready.status, 503)
  assert.doesNotMatch(ready.json.detail, /Service unavailable: .*Service unavailable/)
  const began = Date.now()
  instance.child.kill('SIGTERM')
  const exit = await instance.exited
  const tookMs = Date.now() - began
  assert.ok(tookMs < 2000 + 5000, `exited after ${tookMs} ms`)
  assert.equal(exit, '0')
})
