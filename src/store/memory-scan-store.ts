import { EventEmitter } from 'node:events'
import type { ScanRequest } from '../../schemas/scan-request.js'
import type { ScanErrorInfo } from '../../schemas/scan-status.js'
import type { BeginResult, CancelResult, CreateOutcome, ListOptions, QueueAdmission, RemoveResult, ScanHead, ScanStore } from './scan-store.js'
import { FINISHED_STATUSES, type ScanOutcome, type ScanProgressUpdate, type ScanRecord } from './scan-record.js'
import type { PartitionBeginResult, PartitionCommit, PartitionCounts, PartitionLayout, PartitionState, ResultEntry } from './partition-record.js'
import { ScanCancelledError, scanError } from '../errors.js'
import { scanOfUnit, type StorageCharge, type StorageUsage } from './storage-charge.js'
import { MemoryResultPages } from './result-pages.js'
import type { StoredScan } from './scan-journal.js'
import { SERVICE_DEFAULTS } from '../config/service-config.js'
import type { MemoryScanStoreOptions } from './memory-scan-store-options.js'
import { storedScan, type MemoryScanEntry } from './memory-scan-entry.js'
import { MemoryScanEntries } from './memory-scan-entries.js'
import { MemoryIdempotencyKeys } from './memory-idempotency-keys.js'
import { MemoryPartitionedScans } from './memory-partitioned-scans.js'
import { restoreMemoryScans, visiblePageNames, type Recovery } from './restore-memory-scans.js'

export type { MemoryScanStoreOptions } from './memory-scan-store-options.js'
export type { Recovery } from './restore-memory-scans.js'

/** The embedded store: one process, nothing to install; with a journal, what it accepts outlives the process. */
export class MemoryScanStore implements ScanStore {
  readonly #entries: MemoryScanEntries
  readonly #scans: Map<string, MemoryScanEntry>
  readonly #queued: Map<string, string | undefined>
  readonly #idempotency: MemoryIdempotencyKeys
  readonly #partitions: MemoryPartitionedScans
  readonly #cancels = new EventEmitter()
  /** What `restore` found to run again. */
  recovered: Recovery = { resume: [], lost: [] }

  constructor (options: MemoryScanStoreOptions = {}) {
    const retentionMs = options.retentionMs ?? SERVICE_DEFAULTS.retentionMs
    this.#entries = new MemoryScanEntries(retentionMs, options.journal, options.pages ?? new MemoryResultPages())
    this.#scans = this.#entries.scans
    this.#queued = this.#entries.queued
    this.#idempotency = new MemoryIdempotencyKeys(retentionMs, this.#entries.timers)
    this.#partitions = new MemoryPartitionedScans(this.#entries)
  }

  async create (record: ScanRecord, request: ScanRequest, admission?: QueueAdmission): Promise<CreateOutcome> {
    if (this.#scans.has(record.id)) return 'exists'
    if (admission !== undefined) {
      if (this.#queued.size >= admission.maxQueued) return 'queue_full'
      let tenant = 0
      for (const owner of this.#queued.values()) if (owner === record.tenant) tenant++
      if (tenant >= admission.maxQueuedPerTenant) return 'tenant_queue_full'
    }
    const claim = record.idempotency_key === undefined ? undefined : this.#idempotency.get(record.idempotency_key)
    const entry: MemoryScanEntry = { record: structuredClone(record), request, cancelRequested: false, crashes: 0 }
    if (claim !== undefined) entry.key = { key: record.idempotency_key!, ...claim }
    this.#scans.set(record.id, entry)
    if (record.status === 'queued') this.#queued.set(record.id, record.tenant)
    try {
      await this.#entries.journal?.created(storedScan(entry), request)
    } catch (error) {
      if (this.#scans.get(record.id) === entry) await this.#entries.drop(record.id).catch(() => {})
      throw error
    }
    return 'created'
  }

  async getRequest (id: string): Promise<ScanRequest | undefined> {
    const entry = this.#scans.get(id)
    if (entry === undefined) return undefined
    const { journal } = this.#entries
    if (entry.request !== undefined || journal === undefined) return entry.request
    const request = await journal.request(id)
    if (!FINISHED_STATUSES.has(entry.record.status)) entry.request = request
    return request
  }

  async get (id: string): Promise<ScanRecord | undefined> {
    const entry = this.#scans.get(id)
    return entry === undefined ? undefined : this.#entries.view(entry)
  }

  async head (id: string): Promise<ScanHead | undefined> {
    const entry = this.#scans.get(id)
    if (entry === undefined) return undefined
    const { status, tenant, attempt, result } = entry.record
    const partitions = entry.partitions
    return { id, status, ...(tenant === undefined ? {} : { tenant }), attempt, result: { ...result }, partitioned: partitions !== undefined, ...(partitions === undefined ? {} : { cursorKey: partitions.cursorKey }) }
  }

  async planPartitions (id: string, attempt: string, layout: PartitionLayout): Promise<boolean> {
    return await this.#partitions.plan(id, attempt, layout)
  }

  async beginPartition (id: string, part: number, attempt: string): Promise<PartitionBeginResult> {
    return await this.#partitions.begin(id, part, attempt)
  }

  async releasePartition (id: string, part: number, attempt: string): Promise<void> {
    this.#partitions.release(id, part, attempt)
  }

  async appendPartitionPages (id: string, part: number, attempt: string, pages: string[]): Promise<boolean> {
    return await this.#partitions.append(id, part, attempt, pages)
  }

  async updatePartition (id: string, part: number, attempt: string, counts: PartitionCounts): Promise<boolean> {
    return this.#partitions.update(id, part, attempt, counts)
  }

  async commitPartition (id: string, part: number, attempt: string, commit: PartitionCommit): Promise<boolean> {
    return await this.#partitions.commit(id, part, attempt, commit)
  }

  async partitionStates (id: string): Promise<PartitionState[]> {
    return this.#partitions.states(id)
  }

  async finishPartitioned (id: string, outcome: ScanOutcome, finishedAt: string, rows: string[]): Promise<boolean> {
    return await this.#partitions.finish(id, outcome, finishedAt, rows)
  }

  async resultEntry (id: string, seq: number): Promise<ResultEntry | undefined> {
    return this.#partitions.resultEntry(id, seq)
  }

  async readEntryPages (id: string, part: number, from: number, count: number): Promise<string[]> {
    return await this.#partitions.readEntryPages(id, part, from, count)
  }

  async list (options: ListOptions): Promise<ScanRecord[]> {
    const ids = [...this.#scans.keys()].sort().reverse()
    const out: ScanRecord[] = []
    for (const id of ids) {
      if (options.before !== undefined && id >= options.before) continue
      const { shown, record: current } = this.#scans.get(id)!
      const record = shown ?? current
      if (options.status !== undefined && record.status !== options.status) continue
      if (options.tenant !== undefined && record.tenant !== options.tenant) continue
      out.push(this.#entries.view(this.#scans.get(id)!))
      if (out.length >= options.limit) break
    }
    return out
  }

  async begin (id: string, attempt: string, startedAt: string): Promise<BeginResult | undefined>
  async begin (id: string, attempt: string, startedAt: string, maxRunningPerTenant: number): Promise<BeginResult | 'busy' | undefined>
  async begin (id: string, attempt: string, startedAt: string, maxRunningPerTenant = 0): Promise<BeginResult | 'busy' | undefined> {
    const entry = this.#scans.get(id)
    if (entry === undefined || FINISHED_STATUSES.has(entry.record.status)) return undefined
    if (maxRunningPerTenant > 0 && entry.record.status === 'queued' && this.#tenantIsBusy(entry.record.tenant, maxRunningPerTenant)) return 'busy'
    const previousAttempt = entry.record.attempt
    this.#queued.delete(id)
    if (previousAttempt !== null) this.#entries.pages.drop(`${id}.${previousAttempt}`)
    Object.assign(entry.record, { status: 'running', attempt, started_at: startedAt, result: { count: 0, truncated: false } })
    entry.record.progress = { ...entry.record.progress, processed: 0, matched: 0, skipped: 0, fraction: 0, records_per_second: 0, eta_seconds: null }
    const began = { record: this.#entries.view(entry), previousAttempt, cancelRequested: entry.cancelRequested, crashedAttempts: entry.crashes }
    await this.#entries.write(id, { t: 'record', record: entry.record, cancelRequested: entry.cancelRequested, crashes: entry.crashes })
    return began
  }

  async release (): Promise<void> {}

  #tenantIsBusy (tenant: string | undefined, maxRunning: number): boolean {
    if (![...this.#queued.values()].some((other) => other !== tenant)) return false
    let running = 0
    for (const { record } of this.#scans.values()) if (record.status === 'running' && record.tenant === tenant) running++
    return running >= maxRunning
  }

  async update (id: string, attempt: string, update: ScanProgressUpdate): Promise<boolean> {
    const entry = this.#entries.current(id, attempt)
    if (entry === undefined) return false
    entry.record.progress = { ...update.progress }
    entry.record.result = { ...update.result }
    return true
  }

  async appendPages (id: string, attempt: string, pages: string[]): Promise<boolean> {
    if (this.#entries.current(id, attempt) === undefined) return false
    await this.#entries.pages.append(`${id}.${attempt}`, pages)
    return true
  }

  async finish (id: string, attempt: string, outcome: ScanOutcome, finishedAt: string): Promise<boolean> {
    const entry = this.#entries.current(id, attempt)
    if (entry === undefined) return false
    this.#entries.hold(entry)
    Object.assign(entry.record, structuredClone(outcome), { finished_at: finishedAt })
    this.#entries.expire(id, entry, finishedAt)
    await this.#entries.ended(entry, [`${id}.${attempt}`])
    return true
  }

  async abandon (id: string, error: ScanErrorInfo, finishedAt: string): Promise<boolean> {
    const entry = this.#scans.get(id)
    if (entry === undefined || FINISHED_STATUSES.has(entry.record.status)) return false
    this.#queued.delete(id)
    this.#entries.hold(entry)
    Object.assign(entry.record, { status: 'failed', error, finished_at: finishedAt })
    this.#entries.expire(id, entry, finishedAt)
    await this.#entries.ended(entry, entry.record.attempt === null ? [] : [`${id}.${entry.record.attempt}`])
    return true
  }

  async cancel (id: string, finishedAt: string): Promise<CancelResult | undefined> {
    const entry = this.#scans.get(id)
    if (entry === undefined) return undefined
    const { status } = entry.record
    if (status === 'queued') {
      this.#queued.delete(id)
      this.#entries.hold(entry)
      Object.assign(entry.record, { status: 'cancelled', finished_at: finishedAt, error: scanError(new ScanCancelledError('before it started')) })
      this.#entries.expire(id, entry, finishedAt)
      await this.#entries.ended(entry)
      return { outcome: 'cancelled' }
    }
    if (status === 'running') {
      entry.cancelRequested = true
      this.#cancels.emit('cancel', id)
      await this.#entries.write(id, { t: 'record', record: entry.record, cancelRequested: true, crashes: entry.crashes })
      return { outcome: 'signalled' }
    }
    return { outcome: 'finished', status }
  }

  async remove (id: string): Promise<RemoveResult | undefined> {
    const entry = this.#scans.get(id)
    if (entry === undefined) return undefined
    if (!FINISHED_STATUSES.has(entry.record.status)) return { outcome: 'active', status: entry.record.status }
    const key = entry.record.idempotency_key
    if (key !== undefined && this.#idempotency.get(key)?.value.includes(id) === true) this.#idempotency.delete(key)
    await this.#entries.drop(id)
    return { outcome: 'removed' }
  }

  async readPages (id: string, attempt: string, from: number, count: number): Promise<string[]> {
    const entry = this.#scans.get(id)
    if (entry === undefined || entry.record.attempt !== attempt) return []
    return await this.#entries.pages.read(`${id}.${attempt}`, from, count)
  }

  onCancelRequest (listener: (id: string) => void): void {
    this.#cancels.on('cancel', listener)
  }

  async chargeStorage (tenant: string | undefined, unit: string, attempt: string, bytes: number, quota: number): Promise<StorageCharge> {
    const { charges } = this.#entries
    if (!this.#scans.has(scanOfUnit(unit))) return { charged: true, used: charges.used(tenant) }
    return charges.charge(tenant, unit, attempt, bytes, quota)
  }

  async storageUsage (tenant: string | undefined): Promise<StorageUsage> {
    return this.#entries.charges.usage(tenant)
  }

  async claimIdempotencyKey (key: string, value: string): Promise<string | undefined> {
    const existing = this.#idempotency.get(key)
    if (existing !== undefined) return existing.value
    this.#idempotency.claim(key, { value, claimedAt: Date.now() })
    return undefined
  }

  async ping (): Promise<void> {}

  async close (): Promise<void> {
    this.#entries.timers.clearAll()
    this.#cancels.removeAllListeners()
    await this.#entries.pages.close()
    await this.#entries.journal?.close()
  }

  /** Takes back the scans a state directory kept: see restoreMemoryScans. */
  async restore (scans: StoredScan[], crashed: boolean, maxLostRuns: number): Promise<Recovery> {
    return await restoreMemoryScans(this.#entries, this.#idempotency, scans, crashed, maxLostRuns)
  }

  /** Pages names the scans show, each with whether it holds results: what a state directory keeps. */
  pageNames (): Map<string, boolean> {
    return visiblePageNames(this.#entries)
  }
}
