import type { ScanRequest } from '../../schemas/scan-request.js'
import type { ScanStatusName } from '../../schemas/scan-status.js'
import { describeScanJob } from '../queue/scan-job-summary.js'
import { listProcessors } from '../pipeline/processor-catalogue.js'
import type { ProcessorInfo } from '../../schemas/processor.js'
import type { ScanHead } from '../store/scan-store.js'
import { ScanLimits } from './scan-limits.js'
import { FINISHED_STATUSES, type ScanRecord } from '../store/scan-record.js'
import { decodeResultCursor } from '../store/result-cursor.js'
import { newScanId } from '../store/scan-id.js'
import { fingerprint } from './canonical-json.js'
import { decodePartitionedCursor, FIRST_POSITION, readPartitionedResults } from './partitioned-results.js'
import { readAttemptResults, type ResultsPage } from './attempt-results.js'
import { attemptLines, checkedCount, partitionedLines, type ResultLines } from './result-lines.js'
import { SILENT_LOG } from '../service-log.js'
import { SERVICE_DEFAULTS } from '../config/service-config.js'
import {
  IdempotencyConflictError, LimitExceededError, ResultsRestartedError, ScanActiveError, ScanNotFinishedError,
  ScanFinishedError, ScanNotFoundError, scanError, StorageQuotaExceededError, ServiceUnavailableError, TooManyQueuedScansError, withFieldErrors, withHeaders
} from '../errors.js'
import type { ScanServiceOptions } from './scan-service-options.js'
import { checkInlineNumbers, checkParallelOverrides, checkRecordDepth } from './scan-request-checks.js'
import { isPartial, scanStatus, type ScanStatus, type ScanSummary } from './scan-documents.js'
import { decodeListCursor, encodeListCursor } from './list-cursor.js'
import { queuedScanRecord } from './queued-scan-record.js'

export type { ScanServiceOptions } from './scan-service-options.js'
export type { ScanStatus, ScanSummary } from './scan-documents.js'

export interface SubmitResult {
  id: string
  status: ScanStatusName
  created_at: string
}

export type { ResultsPage } from './attempt-results.js'
export type { ResultLines } from './result-lines.js'

/** What the HTTP routes do, independent of HTTP. */
export class ScanService {
  readonly #options: Required<ScanServiceOptions>

  constructor (options: ScanServiceOptions) {
    this.#options = {
      ...options,
      limits: options.limits ?? new ScanLimits(),
      admission: options.admission ?? { maxQueued: SERVICE_DEFAULTS.maxQueuedScans, maxQueuedPerTenant: SERVICE_DEFAULTS.maxQueuedScansPerTenant },
      queueFullRetryAfterSeconds: options.queueFullRetryAfterSeconds ?? 5,
      contextFor: options.contextFor ?? (() => options.context),
      maxPageBytes: options.maxPageBytes ?? SERVICE_DEFAULTS.maxPageBytes,
      storageQuota: options.storageQuota ?? (() => 0),
      log: options.log ?? SILENT_LOG
    }
  }

  /** `tenant`: who submits (API keys on); it alone can see the scan, and its Idempotency-Keys are its own. */
  async submit (request: ScanRequest, idempotencyKey?: string, tenant?: string): Promise<SubmitResult> {
    checkRecordDepth(request)
    checkInlineNumbers(request)
    const over = this.#options.limits.check(request)
    if (over.length > 0) throw withFieldErrors(new LimitExceededError(over.map((e) => `${e.path}: ${e.message}`).join('; ')), over)
    checkParallelOverrides(request, this.#options.config)
    await this.#options.planner.validateScan(request, this.#options.contextFor(tenant))
    const now = new Date()
    let id = newScanId(now.getTime())
    let createdAt = now.toISOString()
    const key = idempotencyKey === undefined ? undefined : tenant === undefined ? idempotencyKey : `${tenant}:${idempotencyKey}`
    if (idempotencyKey !== undefined && key !== undefined) {
      const print = fingerprint(request)
      const claimed = await this.#options.store.claimIdempotencyKey(key, JSON.stringify({ id, print, created_at: createdAt }))
      if (claimed !== undefined) {
        const first = JSON.parse(claimed) as { id: string, print: string, created_at: string }
        if (first.print !== print) throw new IdempotencyConflictError(idempotencyKey)
        const existing = await this.#options.store.get(first.id)
        if (existing !== undefined) {
          // The first request may have stored its scan and failed before its job was queued: queue it (adding is idempotent).
          if (existing.status === 'queued') await this.#options.queue.add(first.id, describeScanJob(request, tenant))
          return { id: first.id, status: existing.status, created_at: first.created_at }
        }
        // The first request claimed the key and failed before it stored the scan: store it now, under the first id.
        id = first.id
        createdAt = first.created_at
      }
    }
    const record = queuedScanRecord(request, { id, createdAt, ...(tenant === undefined ? {} : { tenant }), ...(key === undefined ? {} : { idempotencyKey: key }) })
    await this.#checkStorage(tenant)
    const stored = { ...request, max_results: request.max_results ?? this.#options.limits.maxResults }
    const created = await this.#options.store.create(record, stored, this.#options.admission)
    if (created === 'queue_full' || created === 'tenant_queue_full') {
      const detail = created === 'queue_full'
        ? `${this.#options.admission.maxQueued} scans are waiting (PARASCAN_MAX_QUEUED_SCANS)`
        : `${this.#options.admission.maxQueuedPerTenant} scans of this tenant are waiting (PARASCAN_MAX_QUEUED_SCANS_PER_TENANT)`
      throw withHeaders(new TooManyQueuedScansError(detail), { 'retry-after': String(this.#options.queueFullRetryAfterSeconds) })
    }
    try {
      await this.#options.queue.add(id, describeScanJob(request, tenant))
    } catch (error) {
      await this.#options.store.abandon(id, scanError(new ServiceUnavailableError('the queue could not take the scan')), new Date().toISOString())
        .catch((cause: unknown) => { this.#options.log.error({ err: cause, scan: id }, 'the queue refused a scan and its record could not be marked failed: it stays queued until it expires') })
      throw error
    }
    return { id, status: 'queued', created_at: createdAt }
  }

  /** A tenant at its storage quota submits nothing more until scans are deleted or expire. */
  async #checkStorage (tenant: string | undefined): Promise<void> {
    const quota = this.#options.storageQuota(tenant)
    if (quota <= 0) return
    const { used, freesAt } = await this.#options.store.storageUsage(tenant)
    if (used < quota) return
    const detail = `${used} bytes of results are stored, the quota is ${quota} (PARASCAN_TENANT_STORAGE_BYTES); delete finished scans or wait until they expire`
    const seconds = freesAt === null ? undefined : Math.max(1, Math.ceil((freesAt - Date.now()) / 1000))
    throw withHeaders(new StorageQuotaExceededError(detail), seconds === undefined ? {} : { 'retry-after': String(seconds) })
  }

  /** The processors that pipeline steps can name here. */
  async processors (): Promise<ProcessorInfo[]> {
    return await listProcessors(this.#options.context.processorsDir)
  }

  async status (id: string, tenant?: string): Promise<ScanStatus> {
    return scanStatus(await this.#record(id, tenant))
  }

  async list (options: { status?: ScanStatusName, limit: number, cursor?: string, tenant?: string }): Promise<{ items: ScanSummary[], next_cursor?: string }> {
    const before = options.cursor === undefined ? undefined : decodeListCursor(options.cursor)
    const records = await this.#options.store.list({ status: options.status, limit: options.limit + 1, before, tenant: options.tenant })
    const items = records.slice(0, options.limit).map((record) => {
      const { metrics: _metrics, ...summary } = scanStatus(record)
      return summary
    })
    return records.length > options.limit
      ? { items, next_cursor: encodeListCursor(items[items.length - 1].id) }
      : { items }
  }

  async cancel (id: string, tenant?: string): Promise<ScanStatus> {
    await this.#record(id, tenant)
    const result = await this.#options.store.cancel(id, new Date().toISOString())
    if (result === undefined) throw new ScanNotFoundError(id)
    if (result.outcome === 'finished') throw new ScanFinishedError(id, result.status)
    if (result.outcome === 'cancelled') await this.#options.queue.remove(id)
    else {
      await this.#options.queue.dropPartitions(id)
        .catch((cause: unknown) => { this.#options.log.warn({ err: cause, scan: id }, 'could not drop the queued partitions of a cancelled scan; each ends when it starts and sees the cancel') })
    }
    return await this.status(id, tenant)
  }

  async remove (id: string, tenant?: string): Promise<void> {
    await this.#record(id, tenant)
    const result = await this.#options.store.remove(id)
    if (result === undefined) throw new ScanNotFoundError(id)
    if (result.outcome === 'active') throw new ScanActiveError(id, result.status)
    await this.#options.queue.remove(id)
  }

  async results (id: string, limit: number, cursor?: string, tenant?: string): Promise<ResultsPage> {
    const record = await this.#head(id, tenant)
    const finished = FINISHED_STATUSES.has(record.status)
    const partial = isPartial(record.status)
    if (record.partitioned) {
      const key = record.cursorKey ?? id
      const start = cursor === undefined ? undefined : decodePartitionedCursor(cursor, key)
      if (cursor !== undefined && start === undefined) {
        const old = decodeResultCursor(cursor)
        if (old.page !== 0 || old.offset !== 0) throw new ResultsRestartedError(id)
      }
      const { page, more } = await readPartitionedResults(this.#options.store, id, { finished, partial, cursorKey: key },
        { limit, maxBytes: this.#options.maxPageBytes }, start ?? FIRST_POSITION)
      return { page, more }
    }
    return await readAttemptResults(this.#options.store, record, { finished, partial }, limit, cursor, this.#options.maxPageBytes)
  }

  /** Every stored result of a finished scan as NDJSON, read page by page as the lines are consumed. */
  async resultLines (id: string, tenant?: string): Promise<ResultLines> {
    const record = await this.#head(id, tenant)
    if (!FINISHED_STATUSES.has(record.status)) throw new ScanNotFinishedError(id, record.status)
    const count = record.result.count
    const lines = !record.partitioned ? attemptLines(this.#options.store, id, record.attempt) : partitionedLines(this.#options.store, id)
    return { status: record.status, partial: isPartial(record.status), count, lines: checkedCount(id, lines, count) }
  }

  /** The scan, if it exists and `tenant` may see it; a scan of another tenant is not found. */
  async #record (id: string, tenant?: string): Promise<ScanRecord> {
    const record = await this.#options.store.get(id)
    if (record === undefined || record.tenant !== tenant) throw new ScanNotFoundError(id)
    return record
  }

  /** What reading results needs of the scan, if it exists and `tenant` may see it. */
  async #head (id: string, tenant?: string): Promise<ScanHead> {
    const head = await this.#options.store.head(id)
    if (head === undefined || head.tenant !== tenant) throw new ScanNotFoundError(id)
    return head
  }
}
