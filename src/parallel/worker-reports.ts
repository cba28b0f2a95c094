import { LogHistogram } from './log-histogram.js'
import type { DoneMessage } from './worker-protocol.js'
import type { WorkerMetrics } from './types.js'

/** Adds the counts of `from` to `into` (records, steals, lock contention and wait) and keeps the deeper deque. */
export function addWorkerCounts (into: WorkerMetrics, from: WorkerMetrics): void {
  into.records_processed += from.records_processed
  into.steals_attempted += from.steals_attempted
  into.steals_successful += from.steals_successful
  into.lock_contention_events += from.lock_contention_events
  into.time_waiting_on_lock_ms += from.time_waiting_on_lock_ms
  into.max_local_queue_depth = Math.max(into.max_local_queue_depth, from.max_local_queue_depth)
}

/** The final reports of the threads that held one slot in turn, as one report of the slot. */
export function mergeReports (reports: DoneMessage[]): DoneMessage {
  if (reports.length === 1) return reports[0]
  const last = reports[reports.length - 1]
  const ms = new LogHistogram()
  const size = new LogHistogram()
  let chunks = 0
  let chunkMs = 0
  let depthSum = 0
  const metrics = { ...last.metrics, records_processed: 0, steals_attempted: 0, steals_successful: 0, lock_contention_events: 0, time_waiting_on_lock_ms: 0, max_local_queue_depth: 0 }
  for (const { metrics: m, histograms } of reports) {
    chunks += m.chunks_processed
    chunkMs += m.avg_ms * m.chunks_processed
    depthSum += m.avg_local_queue_depth * m.chunks_processed
    addWorkerCounts(metrics, m)
    for (const [value, count] of histograms.chunk_ms) ms.record(value, count)
    for (const [value, count] of histograms.chunk_size) size.record(value, count)
  }
  return {
    ...last,
    metrics: {
      ...metrics,
      chunks_processed: chunks,
      avg_ms: chunks === 0 ? 0 : chunkMs / chunks,
      p50_ms: ms.percentile(0.5),
      p95_ms: ms.percentile(0.95),
      p99_ms: ms.percentile(0.99),
      avg_local_queue_depth: chunks === 0 ? 0 : depthSum / chunks
    },
    histograms: { worker_id: last.histograms.worker_id, chunk_ms: ms.entries(), chunk_size: size.entries() },
    feederDepthMax: Math.max(...reports.map((r) => r.feederDepthMax))
  }
}
