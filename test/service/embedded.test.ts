import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { RunningServer } from '../../src/server.js'
import { realServer, tempDataDir, waitFor } from '../helpers/service-harness.js'

let server: RunningServer
let dataDir: string

before(async () => {
  dataDir = tempDataDir()
  writeFileSync(join(dataDir, 'people.ndjson'), ['{"name":"ann","age":31}', '{"name":"bob","age":17}', '{"name":"cy","age":45}'].join('\n') + '\n')
  server = await realServer({ DATA_DIR: dataDir, RETENTION: '2s', PARASCAN_PROGRESS_INTERVAL: '100ms' })
})
after(async () => { await server.close() })

async function submit (body: object): Promise<string> {
  const response = await server.app.inject({ method: 'POST', url: '/v1/scans', payload: body })
  assert.equal(response.statusCode, 202, response.body)
  return response.json().id
}

async function status (id: string): Promise<any> {
  return (await server.app.inject({ method: 'GET', url: `/v1/scans/${id}` })).json()
}

async function finished (id: string): Promise<any> {
  return await waitFor(async () => {
    const doc = await status(id)
    return ['succeeded', 'failed', 'cancelled'].includes(doc.status) ? doc : undefined
  }, 20_000)
}

async function readAll (id: string, limit: number): Promise<{ items: unknown[], pages: number }> {
  const items: unknown[] = []
  let cursor: string | undefined
  let pages = 0
  for (;;) {
    const response = await server.app.inject({ method: 'GET', url: `/v1/scans/${id}/results?limit=${limit}${cursor === undefined ? '' : `&cursor=${cursor}`}` })
    assert.equal(response.statusCode, 200, response.body)
    const page = response.json()
    pages++
    assert.ok(page.items.length <= limit)
    items.push(...page.items)
    if (page.complete) {
      assert.equal(page.next_cursor, undefined)
      return { items, pages }
    }
    cursor = page.next_cursor
    if (page.items.length === 0) await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

test('the seed example: 50000 results whose sum is right, metrics of every worker', async () => {
  const id = await submit({ source: { type: 'range', start: 0, end: 100000 }, pipeline: [{ filter: 'record % 2 == 0' }, { map: 'record * 2' }] })
  const doc = await finished(id)
  assert.equal(doc.status, 'succeeded', JSON.stringify(doc.error))
  assert.deepEqual(doc.result, { count: 50000, truncated: false, partial: false })
  assert.equal(doc.progress.processed, 100000)
  assert.equal(doc.progress.matched, 50000)
  assert.equal(doc.progress.fraction, 1)
  assert.ok(Date.parse(doc.started_at) >= Date.parse(doc.created_at))
  assert.ok(Date.parse(doc.finished_at) >= Date.parse(doc.started_at))
  assert.ok(Date.parse(doc.expires_at) > Date.parse(doc.finished_at))
  assert.equal(doc.metrics.workers.length, 2)
  assert.equal(doc.metrics.workers.reduce((sum: number, w: { records_processed: number }) => sum + w.records_processed, 0), 100000)
  const { items } = await readAll(id, 7000)
  assert.equal(items.length, 50000)
  assert.equal(new Set(items).size, 50000)
  let sum = 0
  for (const item of items) sum += item as number
  assert.equal(sum, 2 * (49999 * 50000))

  const metrics = (await server.app.inject({ method: 'GET', url: '/metrics' })).body
  assert.match(metrics, /parascan_scans_total\{outcome="succeeded"\} [1-9]/)
  const processed = [...metrics.matchAll(/^parascan_records_processed_total\{worker_id="(\d)"\} (\d+)/gm)]
  assert.deepEqual(processed.map((m) => m[1]).sort(), ['0', '1'])
  assert.equal(processed.reduce((sum, m) => sum + Number(m[2]), 0), 100000)
  const chunks = [...metrics.matchAll(/^parascan_chunk_duration_seconds_count\{worker_id="(\d)"\} (\d+)/gm)]
  assert.equal(chunks.reduce((sum, m) => sum + Number(m[2]), 0), doc.metrics.workers.reduce((sum: number, w: { chunks_processed: number }) => sum + w.chunks_processed, 0))
  assert.match(metrics, /parascan_chunk_size_records_bucket\{le="[^"]+",worker_id="\d"\}/)
  assert.match(metrics, /parascan_queue_jobs\{state="completed"\} [1-9]/)
  for (const state of ['waiting', 'active', 'delayed', 'failed']) assert.match(metrics, new RegExp(`parascan_queue_jobs\\{state="${state}"\\} \\d+`))
  assert.match(metrics, /^parascan_local_queue_depth\{worker_id="\d"\} \d+/m)
  assert.match(metrics, /^parascan_active_scans 0$/m)
  assert.match(metrics, /^parascan_steals_attempted_total\{worker_id="\d"\} \d+/m)
  assert.match(metrics, /^parascan_steals_successful_total\{worker_id="\d"\} \d+/m)
  assert.match(metrics, /^parascan_lock_contention_events_total\{worker_id="\d"\} \d+/m)
  assert.match(metrics, /^parascan_scan_duration_seconds_count\{outcome="succeeded"\} [1-9]/m)
  const buckets = [...metrics.matchAll(/^parascan_scan_duration_seconds_bucket\{le="([^"]+)",outcome="succeeded"\}/gm)].map((m) => m[1])
  assert.equal(buckets.at(-2), '3600', 'the last finite bucket is the scan timeout (1 h by default)')
  assert.equal(buckets.at(-1), '+Inf')

  const listed = (await server.app.inject({ method: 'GET', url: '/v1/scans?limit=100' })).json() as { items: Array<Record<string, unknown>> }
  const item = listed.items.find((entry) => entry.id === id)
  assert.ok(item !== undefined)
  assert.ok(!('metrics' in item), 'list items leave out the per-worker metrics')
  assert.deepEqual(Object.keys(item).sort(), Object.keys(doc).filter((key) => key !== 'metrics').sort())
  assert.deepEqual(item.progress, doc.progress)
  assert.match(metrics, /parascan_scan_queue_wait_seconds_count [1-9]/)
  assert.doesNotMatch(metrics, new RegExp(id))
})

test('ordered scans page in source order while they run; limit is clamped to 10000', async () => {
  const id = await submit({
    source: { type: 'range', start: 0, end: 30000 },
    pipeline: [{ map: 'record + 1' }, { processor: 'synthetic', params: { cost_us: 30 } }],
    ordered: true
  })
  const first = await waitFor(async () => {
    const page = (await server.app.inject({ method: 'GET', url: `/v1/scans/${id}/results?limit=100` })).json()
    return page.items.length > 0 ? page : undefined
  })
  assert.equal(first.complete, false)
  assert.equal((await status(id)).status, 'running')
  const { items } = await readAll(id, 20000)
  const all = [...first.items, ...items]
  assert.deepEqual(all.slice(0, 100), Array.from({ length: 100 }, (_, i) => i + 1))
  assert.equal(items.length, 30000)
  assert.deepEqual(items, Array.from({ length: 30000 }, (_, i) => i + 1))
  const big = (await server.app.inject({ method: 'GET', url: `/v1/scans/${id}/results?limit=50000` })).json()
  assert.equal(big.items.length, 10000)
})

test('live progress while running, then cancel: 202, cancelled, 409 afterwards', async () => {
  const id = await submit({ source: { type: 'range', start: 0, end: 200000 }, pipeline: [{ processor: 'synthetic', params: { cost_us: 50 } }] })
  const running = await waitFor(async () => {
    const doc = await status(id)
    return doc.status === 'running' && doc.progress.processed > 0 ? doc : undefined
  })
  assert.ok(running.progress.fraction > 0 && running.progress.fraction < 1)
  assert.ok(running.progress.records_per_second > 0)
  assert.ok(running.progress.eta_seconds > 0)
  const cancel = await server.app.inject({ method: 'POST', url: `/v1/scans/${id}/cancel` })
  assert.equal(cancel.statusCode, 202)
  const doc = await finished(id)
  assert.equal(doc.status, 'cancelled')
  assert.equal(doc.error.code, 'PARASCAN_SCAN_CANCELLED')
  assert.ok(doc.progress.processed < 200000)
  assert.equal((await server.app.inject({ method: 'POST', url: `/v1/scans/${id}/cancel` })).statusCode, 409)
})

test('max_results caps what is stored, counting goes on', async () => {
  const id = await submit({ source: { type: 'range', start: 0, end: 20000 }, max_results: 1234 })
  const doc = await finished(id)
  assert.deepEqual(doc.result, { count: 1234, truncated: true, partial: false })
  assert.equal(doc.progress.matched, 20000)
  const { items } = await readAll(id, 1000)
  assert.equal(items.length, 1234)
})

test('aggregate scans store their rows as results', async () => {
  const id = await submit({
    source: { type: 'range', start: 0, end: 1000 },
    aggregate: { group_by: 'record % 3', metrics: { n: { op: 'count' }, total: { op: 'sum', expr: 'record' } } }
  })
  const doc = await finished(id)
  assert.equal(doc.status, 'succeeded', JSON.stringify(doc.error))
  const { items } = await readAll(id, 10)
  assert.equal(items.length, 3)
  const n = (items as Array<{ n: number }>).reduce((sum, row) => sum + row.n, 0)
  const total = (items as Array<{ total: number }>).reduce((sum, row) => sum + row.total, 0)
  assert.equal(n, 1000)
  assert.equal(total, 999 * 1000 / 2)
})

test('file sources, on_error skip samples, and a failing record names its offset', async () => {
  const adults = await submit({ source: { type: 'file', path: 'people.ndjson', format: 'ndjson' }, pipeline: [{ filter: 'record.age >= 18' }, { map: 'record.name' }], ordered: true })
  assert.equal((await finished(adults)).status, 'succeeded')
  assert.deepEqual((await readAll(adults, 10)).items, ['ann', 'cy'])

  const skip = await submit({ source: { type: 'inline', records: [1, 2, 'x', 4, 'y'] }, pipeline: [{ map: 'record * 2.0' }], on_error: 'skip', ordered: true })
  const skipped = await finished(skip)
  assert.equal(skipped.status, 'succeeded')
  assert.equal(skipped.progress.skipped, 2)
  assert.deepEqual(skipped.errors.map((e: { offset: number }) => e.offset), [2, 4])
  assert.deepEqual((await readAll(skip, 10)).items, [2, 4, 8])

  const fail = await submit({ source: { type: 'inline', records: [1, 2, 'x', 4] }, pipeline: [{ map: 'record * 2.0' }] })
  const failed = await finished(fail)
  assert.equal(failed.status, 'failed')
  assert.equal(failed.error.offset, 2)
  assert.equal(typeof failed.error.code, 'string')
  assert.ok(failed.metrics.workers.length >= 1, 'a failed scan still reports what each worker did')
  assert.equal(typeof failed.metrics.global.global_feeder_depth_max, 'number')
  const partial = (await server.app.inject({ method: 'GET', url: `/v1/scans/${fail}/results` })).json()
  assert.equal(partial.partial, true)
  assert.equal(partial.complete, true)
  assert.equal(partial.items.length, failed.result.count)
})

test('retention: a finished scan expires after RETENTION', async () => {
  const id = await submit({ source: { type: 'range', start: 0, end: 10 } })
  const doc = await finished(id)
  assert.ok(Date.parse(doc.expires_at) - Date.parse(doc.finished_at) === 2000)
  await waitFor(async () => (await server.app.inject({ method: 'GET', url: `/v1/scans/${id}` })).statusCode === 404 ? true : undefined, 5000, 100)
})

test('readyz reports the pool, queue and store', async () => {
  const ready = await server.app.inject({ method: 'GET', url: '/readyz' })
  assert.equal(ready.statusCode, 200)
})
