import type { ScanStore } from '../src/store/scan-store.js'
import type { ScanOutcome, ScanRecord } from '../src/store/scan-record.js'
import type { PartitionJob, ScanJobFlow, ScanJobOutcome } from '../src/queue/scan-queue.js'
import type { ServiceMetrics } from '../src/metrics/service-metrics.js'
import type { PartitionLayout } from '../src/store/partition-record.js'
import { planPartitions } from '../src/partitions/plan-partitions.js'
import { mergeErrors, mergeMetrics } from '../src/partitions/merge-partitions.js'
import { Aggregation, type AggregateState } from '../src/pipeline/aggregation.js'
import { FINISHED_STATUSES } from '../src/store/scan-record.js'
import { ScanCancelledError, ScanLostError, scanError } from '../src/errors.js'

export interface ScanFinisherOptions {
  /** Required. */
  store: ScanStore
  /** Required. */
  metrics: ServiceMetrics
  /**
   * Rows per stored page of an aggregate scan.
   * @defaultValue 1000
   */
  aggregatePageSize?: number
  /**
   * Error samples kept over all partitions.
   * @defaultValue 10
   */
  maxErrorSamples?: number
}

/**
 * The scan job's part in a partitioned scan: it queues the partition jobs as its children, waits
 * for them, then ends the scan from what the partitions committed: summed progress, merged
 * aggregate, error samples and per-worker metrics.
 */
export class ScanFinisher {
  readonly #options: Required<ScanFinisherOptions>

  constructor (options: ScanFinisherOptions) {
    this.#options = { aggregatePageSize: 1000, maxErrorSamples: 10, ...options }
  }

  /** The partition jobs of a planned scan. */
  static jobs (id: string, layout: Pick<PartitionLayout, 'partitions' | 'total'>, tenant?: string): PartitionJob[] {
    return planPartitions(layout.total, layout.partitions).map((range) => ({
      id, ...(tenant === undefined ? {} : { tenant }), part: range.index, partitions: layout.partitions, start: range.start, end: range.end
    }))
  }

  /** Runs each time the scan's job runs once it is partitioned. */
  async step (record: ScanRecord, flow: ScanJobFlow): Promise<ScanJobOutcome> {
    if (FINISHED_STATUSES.has(record.status) || record.partitions === undefined) return 'skipped'
    const jobs = record.cancelRequested === true ? null : ScanFinisher.jobs(record.id, { partitions: record.partitions.total, total: record.progress.total }, record.tenant)
    if (await flow.waitForPartitions(jobs)) return 'waiting'
    return await this.#finish(record.id)
  }

  async #finish (id: string): Promise<ScanJobOutcome> {
    const { store, metrics } = this.#options
    const [record, request, states] = await Promise.all([store.get(id), store.getRequest(id), store.partitionStates(id)])
    if (record === undefined || request === undefined || FINISHED_STATUSES.has(record.status)) return 'skipped'
    const committed = states.every((state) => state.state === 'committed')
    let status: ScanOutcome['status'] = 'succeeded'
    let error: ScanOutcome['error'] = null
    if (record.cancelRequested === true) {
      status = 'cancelled'
      error = scanError(new ScanCancelledError('by request'))
    } else if (!committed) {
      status = 'failed'
      const missing = states.filter((state) => state.state !== 'committed').map((state) => state.index)
      error = scanError(new ScanLostError(`Partitions ${missing.join(', ')} ended without committing their results`))
    }
    const rows: string[] = []
    const result = { ...record.result, truncated: record.result.truncated || states.some((state) => state.commit?.truncated === true) }
    if (status === 'succeeded' && request.aggregate !== undefined) {
      const aggregation = new Aggregation(request.aggregate)
      let merged: AggregateState = aggregation.create()
      for (const state of states) merged = aggregation.merge(merged, structuredClone(state.commit?.partial ?? {}) as AggregateState)
      const all = aggregation.finish(merged, request.aggregate.group_by !== undefined)
      const cap = request.max_results ?? Infinity
      const kept = all.slice(0, cap)
      for (let i = 0; i < kept.length; i += this.#options.aggregatePageSize) rows.push(JSON.stringify(kept.slice(i, i + this.#options.aggregatePageSize)))
      result.count = kept.length
      result.truncated = all.length > kept.length
    }
    const outcome: ScanOutcome = {
      status,
      progress: { ...record.progress, eta_seconds: status === 'succeeded' ? 0 : record.progress.eta_seconds },
      result,
      error,
      errors: mergeErrors(states, this.#options.maxErrorSamples),
      metrics: mergeMetrics(states)
    }
    if (!await store.finishPartitioned(id, outcome, new Date().toISOString(), rows)) return 'skipped'
    metrics.scans.inc({ outcome: status })
    if (record.started_at !== null) metrics.scanDuration.observe((Date.now() - Date.parse(record.started_at)) / 1000)
    return status
  }
}
