import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import {
  parallelScan, WorkStealingPool, type GlobalMetrics, type MetricsEvent, type ProgressEvent, type WorkerHistograms, type WorkerMetrics
} from '../../src/index.js'

const module = new URL('../fixtures/engine-task.js', import.meta.url)
const threadModule = new URL('../fixtures/engine-thread-task.js', import.meta.url)
const aggregateModule = new URL('../fixtures/engine-aggregate-task.js', import.meta.url)
const pool = new WorkStealingPool({ config: { max_workers: 2 } })
after(async () => await pool.close())

interface Recorded { events: Array<[MetricsEvent, unknown]>, finals: WorkerMetrics[], histograms: WorkerHistograms[], global?: GlobalMetrics, progress: ProgressEvent[] }

function recorder (): Recorded & { metrics: (event: MetricsEvent, data: unknown) => void } {
  const r: Recorded = { events: [], finals: [], histograms: [], progress: [] }
  return {
    ...r,
    metrics (event, data) {
      r.events.push([event, data])
      if (event === 'final_worker') r.finals.push(data as WorkerMetrics)
      if (event === 'worker_histograms') r.histograms.push(data as WorkerHistograms)
      if (event === 'progress') r.progress.push(data as ProgressEvent)
      if (event === 'final_global') r.global = data as GlobalMetrics
      Object.assign(this, r)
    }
  }
}

test('a skewed workload is balanced by stealing, and the metrics add up', async () => {
  const total = 200_000
  await pool.scan(1000, { module }, { config: { scheduler: 'thread_pool' } })
  const m = recorder()
  const results = await pool.scan(total, { module, params: { total, shape: 'hot-start', spin: 100, keepEvery: 0 } }, {
    metrics: m.metrics.bind(m), progress_interval_ms: 20
  })
  assert.deepEqual(results, [])
  assert.equal(m.finals.length, 2)
  assert.ok(m.finals.reduce((s, w) => s + w.steals_successful, 0) > 0, JSON.stringify(m.finals))
  for (const w of m.finals) {
    assert.ok(w.records_processed > 0, JSON.stringify(w))
    assert.ok(w.steals_successful <= w.steals_attempted)
    assert.ok(w.lock_contention_events <= w.steals_attempted + w.chunks_processed)
    assert.ok(w.p50_ms <= w.p95_ms && w.p95_ms <= w.p99_ms && w.p99_ms > 0)
    assert.ok(w.avg_local_queue_depth <= w.max_local_queue_depth)
    assert.ok(w.max_local_queue_depth <= 2)
  }
  assert.equal(m.finals.reduce((s, w) => s + w.records_processed, 0), total)
  assert.equal(m.histograms.length, 2)
  for (const h of m.histograms) {
    const w = m.finals[h.worker_id]
    assert.equal(h.chunk_ms.reduce((s, [, c]) => s + c, 0), w.chunks_processed)
    assert.equal(h.chunk_size.reduce((s, [, c]) => s + c, 0), w.chunks_processed)
  }
  assert.ok(m.global !== undefined && m.global.global_feeder_depth_max >= 2)
  const order = m.events.map(([event]) => event).filter(e => e !== 'progress')
  assert.deepEqual(order, ['final_worker', 'final_worker', 'worker_histograms', 'worker_histograms', 'final_global'])
  assert.ok(m.progress.length >= 2, `${m.progress.length} progress events`)
  for (let i = 1; i < m.progress.length; i++) assert.ok(m.progress[i].processed >= m.progress[i - 1].processed)
  const last = m.progress.at(-1) as ProgressEvent
  assert.equal(last.processed, total)
  assert.equal(last.queue_depths.length, 2)
})

test('the three schedulers report metrics of the same shape', async () => {
  const keys: string[][] = []
  for (const scheduler of ['work_stealing', 'thread_pool', 'sequential'] as const) {
    const m = recorder()
    await pool.scan(10_000, { module, params: {} }, { config: { scheduler }, metrics: m.metrics.bind(m) })
    keys.push(Object.keys(m.finals[0]).sort(), Object.keys(m.global ?? {}))
    assert.equal(m.finals.reduce((s, w) => s + w.records_processed, 0), 10_000)
  }
  assert.deepEqual(keys[2], keys[0])
  assert.deepEqual(keys[4], keys[0])
  assert.deepEqual(keys[3], keys[1])
})

test('a persistent pool keeps its threads and module across scans; init runs once per scan per thread', async () => {
  type Row = { thread: number, loads: number, inits: number }
  const threads = new Set<number>()
  for (let scan = 1; scan <= 4; scan++) {
    const rows = await pool.scan(200_000, { module: threadModule }) as Row[]
    assert.ok(rows.length >= 1 && rows.length <= 2)
    for (const row of rows) {
      threads.add(row.thread)
      assert.equal(row.loads, 1, 'the module is imported once per thread')
      assert.equal(row.inits, scan, 'init ran once in every scan on this thread')
    }
  }
  assert.ok(threads.size <= 2, `threads seen: ${[...threads].join(', ')}`)
  const narrow = await pool.scan(1000, { module: threadModule }, { config: { max_workers: 1 } }) as Row[]
  assert.equal(narrow.length, 1)
  assert.ok(threads.has(narrow[0].thread))
})

test('concurrent scans on one pool run one after the other', async () => {
  const spans: Array<[number, number]> = []
  const one = async (keepEvery: number): Promise<unknown[]> => {
    let start = 0
    return await pool.scan(200_000, { module, params: { keepEvery, spin: 20 } }, {
      metrics: (event) => {
        if (event === 'progress' && start === 0) start = performance.now()
        if (event === 'final_global') spans.push([start, performance.now()])
      },
      progress_interval_ms: 1
    })
  }
  const [a, b, c] = await Promise.all([one(2), one(3), one(5)])
  assert.equal(a.length, 100_000)
  assert.equal(b.length, 66_667)
  assert.equal(c.length, 40_000)
  assert.equal(spans.length, 3)
  spans.sort((x, y) => x[0] - y[0])
  for (let i = 1; i < spans.length; i++) assert.ok(spans[i][0] >= spans[i - 1][1], JSON.stringify(spans))
})

test('ordered streaming delivers pages in source order as they come', async () => {
  const total = 500_000
  const pages: Array<{ items: number, values: number[] }> = []
  const summary = await pool.stream(total, { module, params: { keepEvery: 3, result: 'number', spin: 10 } }, {
    ordered: true,
    onBatch: async (batch) => {
      const values = JSON.parse(batch.json) as number[]
      assert.equal(values.length, batch.items)
      pages.push({ items: batch.items, values })
      await new Promise(resolve => setImmediate(resolve))
    }
  })
  const all = pages.flatMap(p => p.values)
  assert.ok(pages.length > 1, `${pages.length} pages`)
  assert.equal(summary.matched, all.length)
  assert.equal(summary.processed, total)
  assert.deepEqual(all, Array.from({ length: Math.ceil(total / 3) }, (_, i) => i * 6))
})

test('a failing onBatch fails the scan with its error', async () => {
  await assert.rejects(pool.stream(100_000, { module }, { onBatch: () => { throw new Error('store is full') } }), /store is full/)
  assert.equal((await pool.scan(3, { module })).length, 3)
})

test('an aggregating module returns the finished rows, merged across threads', async () => {
  const total = 1_000_003
  const want = new Map<number, { count: number, sum: number }>()
  for (let r = 0; r < total; r += 3) {
    const g = want.get(r % 4) ?? { count: 0, sum: 0 }
    g.count++
    g.sum += r
    want.set(r % 4, g)
  }
  const rows = [...want.entries()].sort((a, b) => a[0] - b[0]).map(([group, g]) => ({ group, ...g }))
  for (const scheduler of ['work_stealing', 'thread_pool', 'sequential'] as const) {
    assert.deepEqual(await pool.scan(total, { module: aggregateModule }, { config: { scheduler } }), rows)
  }
  const summary = await pool.stream(total, { module: aggregateModule }, { onBatch: () => { throw new Error('no pages expected') } })
  assert.deepEqual(summary.aggregate, rows)
  assert.equal(summary.matched, Math.ceil(total / 3))
})

test('an idle pool uses no CPU', async () => {
  await pool.scan(10_000, { module })
  await new Promise(resolve => setTimeout(resolve, 50))
  const before = process.cpuUsage()
  await new Promise(resolve => setTimeout(resolve, 300))
  const used = process.cpuUsage(before)
  const ms = (used.user + used.system) / 1000
  assert.ok(ms < 30, `${ms} ms of CPU in 300 ms idle`)
})

test('parallelScan makes, uses and closes its own pool', async () => {
  const results = await parallelScan(10_000, { module, params: { keepEvery: 100 } }, { config: { max_workers: 2 }, ordered: true })
  assert.deepEqual(results, Array.from({ length: 100 }, (_, i) => i * 200))
})

test('a closed pool rejects new scans', async () => {
  const closing = new WorkStealingPool({ config: { max_workers: 1 } })
  const running = closing.scan(2_000_000_000, { module, params: { spin: 10 } })
  const outcome = assert.rejects(running, { code: 'PARASCAN_POOL_CLOSED' })
  await new Promise(resolve => setTimeout(resolve, 50))
  await closing.close()
  await outcome
  await assert.rejects(closing.scan(10, { module }), { code: 'PARASCAN_POOL_CLOSED' })
})
