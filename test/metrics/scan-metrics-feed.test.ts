import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ServiceMetrics } from '../../src/metrics/service-metrics.js'
import type { ProgressEvent, WorkerProgress } from '../../src/parallel/types.js'

function worker (id: number, sizes: Array<[number, number]>, msSum: number): WorkerProgress {
  const records = sizes.reduce((s, [size, n]) => s + size * n, 0)
  const chunks = sizes.reduce((s, [, n]) => s + n, 0)
  return {
    worker_id: id,
    chunks_processed: chunks,
    records_processed: records,
    steals_attempted: chunks,
    steals_successful: 1,
    lock_contention_events: 0,
    time_waiting_on_lock_ms: 0,
    chunk_ms: { count: chunks, sum: msSum, buckets: [[1, chunks]] },
    chunk_size: { count: chunks, sum: records, buckets: sizes }
  }
}

function event (workers: WorkerProgress[]): ProgressEvent {
  return { queue_depths: workers.map(() => 0), workers, total: 0, processed: 0, matched: 0, skipped: 0, rerun: 0, elapsed_ms: 0 }
}

test('a scan feed adds what changed between progress events; counts, buckets and sums end exact', async () => {
  const metrics = new ServiceMetrics()
  const feed = metrics.scanFeed()
  feed.progress(event([worker(0, [[128, 2]], 1.5), worker(1, [], 0)]))
  feed.progress(event([worker(0, [[128, 3], [1024, 1]], 2.25), worker(1, [[16, 1]], 0.5)]))
  feed.progress(event([worker(0, [[128, 3], [1024, 1]], 2.25), worker(1, [[16, 1]], 0.5)]))
  const text = await metrics.registry.metrics()
  const line = (name: string): string | undefined => text.split('\n').find((l) => l.startsWith(name))?.split(' ')[1]
  assert.equal(line('parascan_records_processed_total{worker_id="0"}'), String(3 * 128 + 1024))
  assert.equal(line('parascan_records_processed_total{worker_id="1"}'), '16')
  assert.equal(line('parascan_chunk_size_records_sum{worker_id="0"}'), String(3 * 128 + 1024))
  assert.equal(line('parascan_chunk_size_records_count{worker_id="0"}'), '4')
  // 128 is a bucket bound: chunks of exactly 128 records count at le="128".
  assert.equal(line('parascan_chunk_size_records_bucket{le="128",worker_id="0"}'), '3')
  assert.equal(line('parascan_chunk_size_records_bucket{le="512",worker_id="0"}'), '3')
  assert.equal(line('parascan_chunk_size_records_bucket{le="1024",worker_id="0"}'), '4')
  assert.equal(line('parascan_chunk_size_records_bucket{le="+Inf",worker_id="0"}'), '4')
  assert.equal(line('parascan_chunk_size_records_bucket{le="16",worker_id="1"}'), '1')
  assert.ok(Math.abs(Number(line('parascan_chunk_duration_seconds_sum{worker_id="0"}')) - 0.00225) < 1e-12)
  assert.equal(line('parascan_chunk_duration_seconds_bucket{le="0.001",worker_id="0"}'), '4')
  assert.equal(line('parascan_steals_attempted_total{worker_id="0"}'), '4')
  assert.equal(line('parascan_steals_successful_total{worker_id="1"}'), '1')
})

test('two scans feed the same metrics without counting each other twice', async () => {
  const metrics = new ServiceMetrics()
  for (let scan = 0; scan < 2; scan++) {
    const feed = metrics.scanFeed()
    feed.progress(event([worker(0, [[100, 1]], 1)]))
    feed.progress(event([worker(0, [[100, 2]], 2)]))
  }
  const text = await metrics.registry.metrics()
  assert.match(text, /^parascan_records_processed_total\{worker_id="0"\} 400$/m)
  assert.match(text, /^parascan_chunk_size_records_sum\{worker_id="0"\} 400$/m)
  assert.match(text, /^parascan_chunk_size_records_count\{worker_id="0"\} 4$/m)
})
