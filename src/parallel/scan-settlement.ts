import type { CommitLedger } from './commit-ledger.js'
import { describeRanges } from './commit-ledger.js'
import { IncompleteScanError, TaskModuleError, withCause } from './errors.js'
import type { ProgressReporter } from './progress-reporter.js'
import type { ResultSink } from './result-sink.js'
import type { SlotTable } from './slot-table.js'
import type { GlobalMetrics, ScanSummary, TaskModule, WorkerHistograms, WorkerMetrics } from './types.js'

export interface SessionResult {
  summary: ScanSummary
  results: unknown[]
}

export interface SettlementInput {
  total: number
  moduleUrl: string
  task: TaskModule
  maxErrorSamples: number
  slots: SlotTable
  ledger: CommitLedger
  sink: ResultSink
  progress: ProgressReporter
  /** Ranges seeded into the deques before the threads started. */
  seededDepth: number
}

/** Emits the final metric events of a scan, whatever its outcome. */
export function emitFinalMetrics (input: SettlementInput): { workers: WorkerMetrics[], global: GlobalMetrics } {
  const { slots, progress } = input
  const workers: WorkerMetrics[] = []
  const histograms: WorkerHistograms[] = []
  let feeder = input.seededDepth
  for (const slot of slots.slots) {
    const report = slot.report
    workers.push({ ...(report?.metrics ?? emptyMetrics(slot.id)), records_processed: slot.committedRecords })
    histograms.push(report?.histograms ?? { worker_id: slot.id, chunk_ms: [], chunk_size: [] })
    if (report !== undefined && report.feederDepthMax > feeder) feeder = report.feederDepthMax
  }
  const global = { global_feeder_depth_max: feeder }
  if (progress.enabled) {
    progress.emit('progress', progress.snapshot())
    for (const w of workers) progress.emit('final_worker', w)
    for (const h of histograms) progress.emit('worker_histograms', h)
    progress.emit('final_global', global)
  }
  return { workers, global }
}

/**
 * The result of a scan whose threads all stopped without a failure: it
 * succeeds only when every record was committed exactly once.
 */
export function completedScan (input: SettlementInput, metrics: { workers: WorkerMetrics[], global: GlobalMetrics }): SessionResult {
  const { ledger, total, task, sink } = input
  const missing = ledger.missing(total)
  if (ledger.size !== total || missing.length > 0) {
    const detail = missing.length > 0 ? `${describeRanges(missing)} never committed` : 'some records committed twice'
    throw new IncompleteScanError(ledger.size, total, detail)
  }
  let aggregate: unknown[] | undefined
  try {
    aggregate = task.aggregate !== undefined ? sink.finish() : undefined
  } catch (error) {
    throw withCause(new TaskModuleError(input.moduleUrl, `aggregate.finish failed: ${String(error)}`), error)
  }
  const errors = ledger.errors.sort((a, b) => a.offset - b.offset).slice(0, input.maxErrorSamples)
  const summary: ScanSummary = {
    total,
    processed: ledger.size,
    matched: ledger.matched,
    skipped: ledger.skipped,
    rerun: ledger.rerun,
    errors,
    duration_ms: input.progress.elapsedMs,
    workers: metrics.workers,
    global: metrics.global
  }
  if (aggregate !== undefined) summary.aggregate = aggregate
  return { summary, results: aggregate ?? sink.results }
}

function emptyMetrics (slot: number): WorkerMetrics {
  return {
    worker_id: slot,
    chunks_processed: 0,
    records_processed: 0,
    avg_ms: 0,
    p50_ms: 0,
    p95_ms: 0,
    p99_ms: 0,
    steals_attempted: 0,
    steals_successful: 0,
    max_local_queue_depth: 0,
    avg_local_queue_depth: 0,
    lock_contention_events: 0,
    time_waiting_on_lock_ms: 0
  }
}
