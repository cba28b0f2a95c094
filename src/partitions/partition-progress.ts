import type { PartitionsSummary, Progress } from '../../schemas/scan-status.js'
import type { PartitionLayout, PartitionState } from '../store/partition-record.js'

export interface PartitionedView {
  progress: Progress
  result: { count: number, truncated: boolean }
  partitions: PartitionsSummary
}

/**
 * Progress summed over the partitions (committed ones with their final counters, running ones
 * with their last reported counters), the results visible so far and where the partitions are.
 * `stored`: results admitted so far by an unordered scan's commits. Once the scan has ended
 * (`running` false) no partition counts as running.
 */
export function partitionedView (layout: PartitionLayout, states: PartitionState[], startedAt: string | null, stored: number, running = true, now = Date.now()): PartitionedView {
  let processed = 0
  let matched = 0
  let skipped = 0
  let committedCount = 0
  let truncated = false
  const summary: PartitionsSummary = { total: layout.partitions, queued: 0, running: 0, succeeded: 0, rerun: 0 }
  for (const state of states) {
    processed += state.processed
    matched += state.matched
    skipped += state.skipped
    summary.rerun += Math.max(0, state.runs - 1)
    if (state.state === 'committed') {
      summary.succeeded++
      committedCount += state.commit?.count ?? 0
      if (state.commit?.truncated === true) truncated = true
    } else if (state.state === 'running' && running) {
      summary.running++
    }
  }
  summary.queued = layout.partitions - summary.succeeded - summary.running
  const count = layout.mode === 'unordered' ? stored : layout.mode === 'ordered' ? Math.min(layout.cap, committedCount) : 0
  if (layout.mode !== 'aggregate' && committedCount > count) truncated = true
  const elapsed = startedAt === null ? 0 : Math.max(1, now - Date.parse(startedAt)) / 1000
  const rate = elapsed === 0 ? 0 : processed / elapsed
  const remaining = layout.total - processed
  return {
    progress: {
      total: layout.total,
      processed,
      matched,
      skipped,
      fraction: layout.total === 0 ? 1 : Math.min(1, processed / layout.total),
      records_per_second: Math.round(rate),
      eta_seconds: remaining <= 0 ? 0 : rate > 0 ? remaining / rate : null
    },
    result: { count, truncated },
    partitions: summary
  }
}
