import type { ProgressEvent, WorkerProgress } from '../parallel/types.js'
import type { ServiceMetrics } from './service-metrics.js'

/**
 * The per-worker metrics of one running scan. Each progress event carries
 * every worker's figures so far (counters and histograms the threads keep in
 * shared memory); the feed adds what changed since the scan's last event, so
 * /metrics moves while the scan runs and ends at the exact totals.
 */
export class ScanMetricsFeed {
  readonly #metrics: ServiceMetrics
  readonly #last = new Map<number, WorkerProgress>()

  constructor (metrics: ServiceMetrics) {
    this.#metrics = metrics
  }

  progress (event: ProgressEvent): void {
    const m = this.#metrics
    m.progress(event)
    for (const now of event.workers) {
      const before = this.#last.get(now.worker_id)
      this.#last.set(now.worker_id, now)
      const id = String(now.worker_id)
      const labels = { worker_id: id }
      inc(m.recordsProcessed, labels, now.records_processed - (before?.records_processed ?? 0))
      inc(m.stealsAttempted, labels, now.steals_attempted - (before?.steals_attempted ?? 0))
      inc(m.stealsSuccessful, labels, now.steals_successful - (before?.steals_successful ?? 0))
      inc(m.lockContention, labels, now.lock_contention_events - (before?.lock_contention_events ?? 0))
      const msBuckets = grown(now.chunk_ms.buckets, before?.chunk_ms.buckets)
      if (msBuckets.length > 0) m.chunkDuration.add(id, msBuckets, (now.chunk_ms.sum - (before?.chunk_ms.sum ?? 0)) / 1000, 1 / 1000)
      const sizeBuckets = grown(now.chunk_size.buckets, before?.chunk_size.buckets)
      if (sizeBuckets.length > 0) m.chunkSize.add(id, sizeBuckets, now.chunk_size.sum - (before?.chunk_size.sum ?? 0))
    }
  }
}

function inc (counter: ServiceMetrics['recordsProcessed'], labels: { worker_id: string }, delta: number): void {
  // Touched even when nothing changed, so every worker's series exists from its first event.
  counter.inc(labels, delta > 0 ? delta : 0)
}

/** Bucket counts added since `before`, as [upper bound, count] pairs. */
function grown (now: Array<[number, number]>, before: Array<[number, number]> | undefined): Array<[number, number]> {
  if (before === undefined || before.length === 0) return now
  const was = new Map(before)
  const out: Array<[number, number]> = []
  for (const [bound, count] of now) {
    const delta = count - (was.get(bound) ?? 0)
    if (delta > 0) out.push([bound, delta])
  }
  return out
}
