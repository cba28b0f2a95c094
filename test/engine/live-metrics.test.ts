import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { WorkStealingPool } from '../../src/index.js'
import type { ProgressEvent, WorkerMetrics } from '../../src/parallel/types.js'

const module = new URL('../fixtures/engine-task.js', import.meta.url)
const pool = new WorkStealingPool({ config: { max_workers: 2 } })
after(() => pool.close())

for (const scheduler of ['work_stealing', 'thread_pool', 'sequential'] as const) {
  test(`${scheduler}: progress events carry per-worker figures while the scan runs, with exact sums at the end`, async () => {
    const total = 40_000
    const gate = new SharedArrayBuffer(4)
    const progress: ProgressEvent[] = []
    const finals: WorkerMetrics[] = []
    let midScan: ProgressEvent | undefined
    // Record 30 000 waits until a progress event has shown work on every slot, so the figures must move before the end.
    const timer = setTimeout(() => { Atomics.store(new Int32Array(gate), 0, 1); Atomics.notify(new Int32Array(gate), 0) }, 8000)
    try {
      // The sequential scheduler runs in this thread: a record there may block it only briefly.
      await pool.stream(total, { module, params: { blockAt: 30_000, gate, spin: 200, blockMs: scheduler === 'sequential' ? 300 : 10_000 } }, {
        config: { scheduler, initial_chunk_size: 500, min_chunk_size: 100, max_chunk_size: 1000 },
        progress_interval_ms: 20,
        metrics: (event, data) => {
          if (event === 'final_worker') finals.push(data as WorkerMetrics)
          if (event !== 'progress') return
          const p = data as ProgressEvent
          progress.push(p)
          if (midScan === undefined && p.workers.every((w) => w.chunks_processed > 0) && p.workers.reduce((s, w) => s + w.records_processed, 0) < total) {
            midScan = p
            Atomics.store(new Int32Array(gate), 0, 1)
            Atomics.notify(new Int32Array(gate), 0)
          }
        },
        onBatch: () => {}
      })
    } finally {
      clearTimeout(timer)
    }
    assert.ok(midScan !== undefined, 'a progress event before the end showed every worker at work')
    for (const w of midScan.workers) {
      assert.ok(w.records_processed > 0 && w.chunk_size.count === w.chunks_processed, JSON.stringify(w))
    }
    const last = progress.at(-1) as ProgressEvent
    assert.equal(last.workers.length, scheduler === 'sequential' ? 1 : 2)
    assert.equal(last.workers.reduce((s, w) => s + w.chunk_size.sum, 0), total, 'chunk sizes sum to the records, exactly')
    for (const w of last.workers) {
      const final = finals.find((f) => f.worker_id === w.worker_id) as WorkerMetrics
      assert.equal(w.records_processed, final.records_processed)
      assert.equal(w.chunk_size.sum, w.records_processed)
      assert.equal(w.chunks_processed, final.chunks_processed)
      assert.equal(w.chunk_size.count, w.chunks_processed)
      assert.equal(w.chunk_ms.count, w.chunks_processed)
      assert.ok(Math.abs(w.chunk_ms.sum - final.avg_ms * final.chunks_processed) < 1e-3 * w.chunks_processed + 1e-6, `${w.chunk_ms.sum} vs ${final.avg_ms * final.chunks_processed}`)
      assert.equal(w.steals_attempted, final.steals_attempted)
      assert.equal(w.steals_successful, final.steals_successful)
      assert.equal(w.lock_contention_events, final.lock_contention_events)
      for (const [bound, count] of w.chunk_size.buckets) {
        assert.ok(count > 0 && bound >= 1 && bound <= 1024, `chunk size bucket ${bound}`)
      }
      assert.equal(w.chunk_size.buckets.reduce((s, [, c]) => s + c, 0), w.chunk_size.count)
    }
    for (let i = 1; i < progress.length; i++) {
      for (const w of progress[i].workers) {
        const before = progress[i - 1].workers[w.worker_id]
        assert.ok(w.records_processed >= before.records_processed && w.chunks_processed >= before.chunks_processed, 'live figures only grow')
      }
    }
  })
}

test('live chunk-size buckets are upper-inclusive at powers of two', async () => {
  const { liveBucket, liveBucketBound } = await import('../../src/parallel/shared-scan-state.js')
  for (const v of [1, 16, 128, 1000, 1024, 8192]) {
    const i = liveBucket(v)
    assert.ok(liveBucketBound(i) >= v && liveBucketBound(i - 1) < v, `${v} in (${liveBucketBound(i - 1)}, ${liveBucketBound(i)}]`)
  }
  assert.equal(liveBucketBound(liveBucket(128)), 128)
  assert.equal(liveBucketBound(liveBucket(129)) > 128, true)
})
