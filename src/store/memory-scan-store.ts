import { EventEmitter } from 'node:events'
import type { ScanRequest } from '../../schemas/scan-request.js'
import type { ScanErrorInfo } from '../../schemas/scan-status.js'
import type { BeginResult, CancelResult, CreateOutcome, ListOptions, QueueAdmission, RemoveResult, ScanStore } from './scan-store.js'
import { FINISHED_STATUSES, type ScanOutcome, type ScanProgressUpdate, type ScanRecord } from './scan-record.js'
import type { PartitionBeginResult, PartitionCommit, PartitionCounts, PartitionLayout, PartitionState, ResultEntry } from './partition-record.js'
import { MemoryPartitions } from './memory-partitions.js'
import { partitionedView } from '../partitions/partition-progress.js'
import { MemoryStorageCharges } from './memory-storage-charges.js'
import { scanOfUnit, type StorageCharge, type StorageUsage } from './storage-charge.js'
import { SERVICE_DEFAULTS } from '../config/service-config.js'

export interface MemoryScanStoreOptions {
  /**
   * How long finished scans, their results and idempotency keys are kept (ms).
   * @defaultValue 24 h
   */
  retentionMs?: number
}

interface Entry {
  record: ScanRecord
  request: ScanRequest
  pages: string[]
  cancelRequested: boolean
  expiry?: NodeJS.Timeout
  partitions?: MemoryPartitions
}

/** The embedded store: one process, nothing to install. */
export class MemoryScanStore implements ScanStore {
  readonly #retentionMs: number
  readonly #scans = new Map<string, Entry>()
  readonly #idempotency = new Map<string, string>()
  readonly #timers = new Set<NodeJS.Timeout>()
  readonly #cancels = new EventEmitter()
  /** Queued scans and their tenants. */
  readonly #queued = new Map<string, string | undefined>()
  readonly #charges = new MemoryStorageCharges((id) => {
    const expiresAt = this.#scans.get(id)?.record.expires_at
    return expiresAt == null ? null : Date.parse(expiresAt)
  })

  constructor (options: MemoryScanStoreOptions = {}) {
    this.#retentionMs = options.retentionMs ?? SERVICE_DEFAULTS.retentionMs
  }

  async create (record: ScanRecord, request: ScanRequest, admission?: QueueAdmission): Promise<CreateOutcome> {
    if (this.#scans.has(record.id)) return 'exists'
    if (admission !== undefined) {
      if (this.#queued.size >= admission.maxQueued) return 'queue_full'
      let tenant = 0
      for (const owner of this.#queued.values()) if (owner === record.tenant) tenant++
      if (tenant >= admission.maxQueuedPerTenant) return 'tenant_queue_full'
    }
    this.#scans.set(record.id, { record: structuredClone(record), request, pages: [], cancelRequested: false })
    if (record.status === 'queued') this.#queued.set(record.id, record.tenant)
    return 'created'
  }

  async getRequest (id: string): Promise<ScanRequest | undefined> {
    return this.#scans.get(id)?.request
  }

  async get (id: string): Promise<ScanRecord | undefined> {
    const entry = this.#scans.get(id)
    return entry === undefined ? undefined : this.#view(entry)
  }

  #view (entry: Entry): ScanRecord {
    const record = structuredClone(entry.record)
    if (entry.cancelRequested) record.cancelRequested = true
    const partitions = entry.partitions
    if (partitions === undefined) return record
    const view = partitionedView(partitions.layout, partitions.states(), record.started_at, partitions.stored, record.status === 'running')
    return record.status === 'running' ? { ...record, ...view } : { ...record, partitions: view.partitions }
  }

  async planPartitions (id: string, attempt: string, layout: PartitionLayout): Promise<boolean> {
    const entry = this.#current(id, attempt)
    if (entry === undefined) return false
    entry.partitions = new MemoryPartitions(layout)
    entry.record.progress = { ...entry.record.progress, total: layout.total }
    return true
  }

  #partitioned (id: string): Entry & { partitions: MemoryPartitions } | undefined {
    const entry = this.#scans.get(id)
    return entry?.partitions !== undefined && entry.record.status === 'running' ? entry as Entry & { partitions: MemoryPartitions } : undefined
  }

  async beginPartition (id: string, part: number, attempt: string): Promise<PartitionBeginResult> {
    const entry = this.#partitioned(id)
    return entry === undefined ? { outcome: 'gone' } : entry.partitions.begin(part, attempt, entry.cancelRequested)
  }

  async appendPartitionPages (id: string, part: number, attempt: string, pages: string[]): Promise<boolean> {
    const entry = this.#partitioned(id)
    return entry !== undefined && !entry.cancelRequested && entry.partitions.append(part, attempt, pages)
  }

  async updatePartition (id: string, part: number, attempt: string, counts: PartitionCounts): Promise<boolean> {
    return this.#partitioned(id)?.partitions.update(part, attempt, counts) ?? false
  }

  async commitPartition (id: string, part: number, attempt: string, commit: PartitionCommit): Promise<boolean> {
    const entry = this.#partitioned(id)
    return entry !== undefined && !entry.cancelRequested && entry.partitions.commit(part, attempt, commit)
  }

  async partitionStates (id: string): Promise<PartitionState[]> {
    return this.#scans.get(id)?.partitions?.states() ?? []
  }

  async finishPartitioned (id: string, outcome: ScanOutcome, finishedAt: string, rows: string[]): Promise<boolean> {
    const entry = this.#partitioned(id)
    if (entry === undefined) return false
    Object.assign(entry.record, structuredClone(outcome), { finished_at: finishedAt })
    entry.cancelRequested = true
    entry.partitions.rows = rows
    this.#expire(id, entry, finishedAt)
    return true
  }

  async resultEntry (id: string, seq: number): Promise<ResultEntry | undefined> {
    const entry = this.#scans.get(id)
    return entry?.partitions?.entry(seq, entry.record.status === 'succeeded')
  }

  async readEntryPages (id: string, part: number, from: number, count: number): Promise<string[]> {
    return this.#scans.get(id)?.partitions?.pages(part, from, count) ?? []
  }

  async list (options: ListOptions): Promise<ScanRecord[]> {
    const ids = [...this.#scans.keys()].sort().reverse()
    const out: ScanRecord[] = []
    for (const id of ids) {
      if (options.before !== undefined && id >= options.before) continue
      const record = this.#scans.get(id)!.record
      if (options.status !== undefined && record.status !== options.status) continue
      if (options.tenant !== undefined && record.tenant !== options.tenant) continue
      out.push(this.#view(this.#scans.get(id)!))
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
    Object.assign(entry.record, { status: 'running', attempt, started_at: startedAt, result: { count: 0, truncated: false } })
    entry.record.progress = { ...entry.record.progress, processed: 0, matched: 0, skipped: 0, fraction: 0, records_per_second: 0, eta_seconds: null }
    entry.pages = []
    return { record: structuredClone(entry.record), previousAttempt, cancelRequested: entry.cancelRequested, crashedAttempts: 0 }
  }

  async release (): Promise<void> {}

  #tenantIsBusy (tenant: string | undefined, maxRunning: number): boolean {
    if (![...this.#queued.values()].some((other) => other !== tenant)) return false
    let running = 0
    for (const { record } of this.#scans.values()) if (record.status === 'running' && record.tenant === tenant) running++
    return running >= maxRunning
  }

  async update (id: string, attempt: string, update: ScanProgressUpdate): Promise<boolean> {
    const entry = this.#current(id, attempt)
    if (entry === undefined) return false
    entry.record.progress = { ...update.progress }
    entry.record.result = { ...update.result }
    return true
  }

  async appendPages (id: string, attempt: string, pages: string[]): Promise<boolean> {
    const entry = this.#current(id, attempt)
    if (entry === undefined) return false
    entry.pages.push(...pages)
    return true
  }

  async finish (id: string, attempt: string, outcome: ScanOutcome, finishedAt: string): Promise<boolean> {
    const entry = this.#current(id, attempt)
    if (entry === undefined) return false
    Object.assign(entry.record, structuredClone(outcome), { finished_at: finishedAt })
    this.#expire(id, entry, finishedAt)
    return true
  }

  async abandon (id: string, error: ScanErrorInfo, finishedAt: string): Promise<boolean> {
    const entry = this.#scans.get(id)
    if (entry === undefined || FINISHED_STATUSES.has(entry.record.status)) return false
    this.#queued.delete(id)
    Object.assign(entry.record, { status: 'failed', error, finished_at: finishedAt })
    this.#expire(id, entry, finishedAt)
    return true
  }

  async cancel (id: string, finishedAt: string): Promise<CancelResult | undefined> {
    const entry = this.#scans.get(id)
    if (entry === undefined) return undefined
    const { status } = entry.record
    if (status === 'queued') {
      this.#queued.delete(id)
      Object.assign(entry.record, { status: 'cancelled', finished_at: finishedAt, error: { code: 'PARASCAN_SCAN_CANCELLED', message: 'Cancelled before it started' } })
      this.#expire(id, entry, finishedAt)
      return { outcome: 'cancelled' }
    }
    if (status === 'running') {
      entry.cancelRequested = true
      this.#cancels.emit('cancel', id)
      return { outcome: 'signalled' }
    }
    return { outcome: 'finished', status }
  }

  async remove (id: string): Promise<RemoveResult | undefined> {
    const entry = this.#scans.get(id)
    if (entry === undefined) return undefined
    if (!FINISHED_STATUSES.has(entry.record.status)) return { outcome: 'active', status: entry.record.status }
    const key = entry.record.idempotency_key
    if (key !== undefined && this.#idempotency.get(key)?.includes(id) === true) this.#idempotency.delete(key)
    this.#drop(id)
    return { outcome: 'removed' }
  }

  async readPages (id: string, attempt: string, from: number, count: number): Promise<string[]> {
    const entry = this.#scans.get(id)
    if (entry === undefined || entry.record.attempt !== attempt) return []
    return entry.pages.slice(from, from + count)
  }

  onCancelRequest (listener: (id: string) => void): void {
    this.#cancels.on('cancel', listener)
  }

  async chargeStorage (tenant: string | undefined, unit: string, attempt: string, bytes: number, quota: number): Promise<StorageCharge> {
    if (!this.#scans.has(scanOfUnit(unit))) return { charged: true, used: this.#charges.used(tenant) }
    return this.#charges.charge(tenant, unit, attempt, bytes, quota)
  }

  async storageUsage (tenant: string | undefined): Promise<StorageUsage> {
    return this.#charges.usage(tenant)
  }

  async claimIdempotencyKey (key: string, value: string): Promise<string | undefined> {
    const existing = this.#idempotency.get(key)
    if (existing !== undefined) return existing
    this.#idempotency.set(key, value)
    this.#later(this.#retentionMs, () => this.#idempotency.delete(key))
    return undefined
  }

  async ping (): Promise<void> {}

  async close (): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer)
    this.#timers.clear()
    this.#cancels.removeAllListeners()
  }

  #current (id: string, attempt: string): Entry | undefined {
    const entry = this.#scans.get(id)
    if (entry === undefined || entry.record.status !== 'running' || entry.record.attempt !== attempt) return undefined
    return entry
  }

  #expire (id: string, entry: Entry, finishedAt: string): void {
    entry.record.expires_at = new Date(Date.parse(finishedAt) + this.#retentionMs).toISOString()
    entry.expiry = this.#later(this.#retentionMs, () => { if (this.#scans.get(id) === entry) this.#drop(id) })
  }

  #drop (id: string): void {
    const entry = this.#scans.get(id)
    if (entry?.expiry !== undefined) {
      clearTimeout(entry.expiry)
      this.#timers.delete(entry.expiry)
    }
    this.#scans.delete(id)
    this.#queued.delete(id)
    this.#charges.drop(id)
  }

  #later (ms: number, fn: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => { this.#timers.delete(timer); fn() }, Math.min(ms, 2 ** 31 - 1))
    timer.unref()
    this.#timers.add(timer)
    return timer
  }
}
