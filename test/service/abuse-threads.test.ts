import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { http } from '../helpers/service-harness.js'
import { serverStarter, finished, submit } from '../helpers/scan-client.js'

const { start } = serverStarter()

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
