import type { ScanMetrics } from '../../schemas/scan-status.js'
import type { RecordErrorSample } from '../parallel/types.js'
import type { PartitionState } from '../store/partition-record.js'
import { addWorkerCounts } from '../parallel/worker-reports.js'

type WorkerEntry = ScanMetrics['workers'][number]

/** The first `max` error samples of all partitions, by global offset. */
export function mergeErrors (states: PartitionState[], max: number): RecordErrorSample[] {
  return states.flatMap((state) => state.commit?.errors ?? []).sort((a, b) => a.offset - b.offset).slice(0, max)
}

/**
 * Engine metrics over partitions, one entry per instance and worker thread: counters add up,
 * avg_ms is weighted by chunks, percentiles and queue depths are the largest seen (a bound,
 * not a merged percentile).
 */
export function mergeMetrics (states: PartitionState[]): ScanMetrics | null {
  const byWorker = new Map<string, WorkerEntry>()
  let feeder = 0
  let any = false
  for (const state of states) {
    const metrics = state.commit?.metrics
    if (metrics == null) continue
    any = true
    feeder = Math.max(feeder, metrics.global.global_feeder_depth_max)
    for (const worker of metrics.workers) {
      const key = `${worker.instance ?? ''}\u0000${worker.worker_id}`
      const seen = byWorker.get(key)
      if (seen === undefined) {
        byWorker.set(key, { ...worker })
        continue
      }
      const chunks = seen.chunks_processed + worker.chunks_processed
      seen.avg_ms = chunks === 0 ? 0 : (seen.avg_ms * seen.chunks_processed + worker.avg_ms * worker.chunks_processed) / chunks
      seen.chunks_processed = chunks
      addWorkerCounts(seen, worker)
      seen.p50_ms = Math.max(seen.p50_ms, worker.p50_ms)
      seen.p95_ms = Math.max(seen.p95_ms, worker.p95_ms)
      seen.p99_ms = Math.max(seen.p99_ms, worker.p99_ms)
      seen.avg_local_queue_depth = Math.max(seen.avg_local_queue_depth, worker.avg_local_queue_depth)
    }
  }
  if (!any) return null
  const workers = [...byWorker.values()].sort((a, b) => (a.instance ?? '').localeCompare(b.instance ?? '') || a.worker_id - b.worker_id)
  return { workers, global: { global_feeder_depth_max: feeder } }
}
