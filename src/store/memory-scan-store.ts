import { EventEmitter } from 'node:events'
import { randomUUID } from 'node:crypto'
import type { ScanRequest } from '../../schemas/scan-request.js'
import type { ScanErrorInfo } from '../../schemas/scan-status.js'
import type { BeginResult, CancelResult, CreateOutcome, ListOptions, QueueAdmission, RemoveResult, ScanHead, ScanStore } from './scan-store.js'
import { emptyProgress, FINISHED_STATUSES, type ScanOutcome, type ScanProgressUpdate, type ScanRecord } from './scan-record.js'
import type { PartitionBeginResult, PartitionCommit, PartitionCounts, PartitionLayout, PartitionState, ResultEntry } from './partition-record.js'
import { MemoryPartitions } from './memory-partitions.js'
import { ScanCancelledError, scanError } from '../errors.js'
import { partitionedView } from '../partitions/partition-progress.js'
import { MemoryStorageCharges } from './memory-storage-charges.js'
import { partitionUnit, scanOfUnit, type StorageCharge, type StorageUsage, type StoredCharge } from './storage-charge.js'
import { MemoryResultPages, type ResultPages } from './result-pages.js'
import type { ScanChange, ScanJournal, StoredKey, StoredScan } from './scan-journal.js'
import { SERVICE_DEFAULTS } from '../config/service-config.js'

export interface MemoryScanStoreOptions {
  /**
   * How long finished scans, their results and idempotency keys are kept (ms).
   * @defaultValue 24 h
   */
  retentionMs?: number
  /**
   * Where what the store accepts is written before it answers.
   * @defaultValue nowhere: it all ends with the process
   */
  journal?: ScanJournal
  /**
   * Where result pages are kept.
   * @defaultValue in memory
   */
  pages?: ResultPages
}

/** What a store taken back from a state directory has to run again. */
export interface Recovery {
  /** Scans to queue again (they were queued or running), oldest first. */
  resume: string[]
  /** Partitioned scans a partition of which was lost more often than allowed: they are failed instead. */
  lost: string[]
}

interface Entry {
  record: ScanRecord
  /** Undefined once the journal has it and the scan has ended: read back when asked for. */
  request?: ScanRequest
  cancelRequested: boolean
  crashes: number
  key?: StoredKey
  expiry?: NodeJS.Timeout
  partitions?: MemoryPartitions
  /** The record readers see while the end of the scan is not yet durable: as it was before. */
  shown?: ScanRecord
}

/** The embedded store: one process, nothing to install; with a journal, what it accepts outlives the process. */
export class MemoryScanStore implements ScanStore {
  readonly #retentionMs: number
  readonly #journal: ScanJournal | undefined
  readonly #pages: ResultPages
  readonly #scans = new Map<string, Entry>()
  readonly #idempotency = new Map<string, { value: string, claimedAt: number }>()
  readonly #timers = new Set<NodeJS.Timeout>()
  readonly #cancels = new EventEmitter()
  /** Queued scans and their tenants. */
  readonly #queued = new Map<string, string | undefined>()
  readonly #charges = new MemoryStorageCharges((id) => {
    const expiresAt = this.#scans.get(id)?.record.expires_at
    return expiresAt == null ? null : Date.parse(expiresAt)
  })
  /** What `restore` found to run again. */
  recovered: Recovery = { resume: [], lost: [] }

  constructor (options: MemoryScanStoreOptions = {}) {
    this.#retentionMs = options.retentionMs ?? SERVICE_DEFAULTS.retentionMs
    this.#journal = options.journal
    this.#pages = options.pages ?? new MemoryResultPages()
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
    const entry: Entry = { record: structuredClone(record), request, cancelRequested: false, crashes: 0 }
    if (claim !== undefined) entry.key = { key: record.idempotency_key!, ...claim }
    this.#scans.set(record.id, entry)
    if (record.status === 'queued') this.#queued.set(record.id, record.tenant)
    try {
      await this.#journal?.created(this.#stored(entry), request)
    } catch (error) {
      if (this.#scans.get(record.id) === entry) await this.#drop(record.id).catch(() => {})
      throw error
    }
    return 'created'
  }

  async getRequest (id: string): Promise<ScanRequest | undefined> {
    const entry = this.#scans.get(id)
    if (entry === undefined) return undefined
    if (entry.request !== undefined || this.#journal === undefined) return entry.request
    const request = await this.#journal.request(id)
    if (!FINISHED_STATUSES.has(entry.record.status)) entry.request = request
    return request
  }

  async get (id: string): Promise<ScanRecord | undefined> {
    const entry = this.#scans.get(id)
    return entry === undefined ? undefined : this.#view(entry)
  }

  async head (id: string): Promise<ScanHead | undefined> {
    const entry = this.#scans.get(id)
    if (entry === undefined) return undefined
    const { status, tenant, attempt, result } = entry.record
    const partitions = entry.partitions
    return { id, status, ...(tenant === undefined ? {} : { tenant }), attempt, result: { ...result }, partitioned: partitions !== undefined, ...(partitions === undefined ? {} : { cursorKey: partitions.cursorKey }) }
  }

  #view (entry: Entry): ScanRecord {
    const record = structuredClone(entry.shown ?? entry.record)
    if (entry.cancelRequested) record.cancelRequested = true
    const partitions = entry.partitions
    if (partitions === undefined) return record
    const view = partitionedView(partitions.layout, partitions.states(), record.started_at, partitions.stored, record.status === 'running')
    return record.status === 'running' ? { ...record, ...view } : { ...record, partitions: view.partitions }
  }

  async planPartitions (id: string, attempt: string, layout: PartitionLayout): Promise<boolean> {
    const entry = this.#current(id, attempt)
    if (entry === undefined) return false
    entry.partitions = new MemoryPartitions(id, this.#pages, layout)
    entry.record.progress = { ...entry.record.progress, total: layout.total }
    const partitions = entry.partitions.toJSON()
    await this.#write(id, { t: 'record', record: entry.record, cancelRequested: entry.cancelRequested, crashes: entry.crashes }, { t: 'partitions', partitions })
    return true
  }

  #partitioned (id: string): Entry & { partitions: MemoryPartitions } | undefined {
    const entry = this.#scans.get(id)
    return entry?.partitions !== undefined && entry.record.status === 'running' ? entry as Entry & { partitions: MemoryPartitions } : undefined
  }

  async beginPartition (id: string, part: number, attempt: string): Promise<PartitionBeginResult> {
    const entry = this.#partitioned(id)
    if (entry === undefined) return { outcome: 'gone' }
    const began = entry.partitions.begin(part, attempt, entry.cancelRequested)
    if (began.outcome === 'began') await this.#write(id, { t: 'part', ...entry.partitions.storedPart(part) })
    return began
  }

  async releasePartition (id: string, part: number, attempt: string): Promise<void> {
    this.#partitioned(id)?.partitions.release(part, attempt)
  }

  async appendPartitionPages (id: string, part: number, attempt: string, pages: string[]): Promise<boolean> {
    const entry = this.#partitioned(id)
    return entry !== undefined && !entry.cancelRequested && await entry.partitions.append(part, attempt, pages)
  }

  async updatePartition (id: string, part: number, attempt: string, counts: PartitionCounts): Promise<boolean> {
    return this.#partitioned(id)?.partitions.update(part, attempt, counts) ?? false
  }

  async commitPartition (id: string, part: number, attempt: string, commit: PartitionCommit): Promise<boolean> {
    const entry = this.#partitioned(id)
    if (entry === undefined || entry.cancelRequested || !entry.partitions.commit(part, attempt, commit)) return false
    const charge = this.#charges.of(id, partitionUnit(id, part)).find((held) => held.attempt === attempt)
    await this.#journal?.changed(id, { t: 'part', ...entry.partitions.storedPart(part), ...(charge === undefined ? {} : { charge }) }, [entry.partitions.pagesOf(part, attempt)])
    entry.partitions.settle(part)
    return true
  }

  async partitionStates (id: string): Promise<PartitionState[]> {
    return this.#scans.get(id)?.partitions?.states() ?? []
  }

  async finishPartitioned (id: string, outcome: ScanOutcome, finishedAt: string, rows: string[]): Promise<boolean> {
    const name = rows.length > 0 ? `${id}.rows.${randomUUID()}` : undefined
    if (name !== undefined) await this.#pages.append(name, rows)
    const entry = this.#partitioned(id)
    if (entry === undefined) {
      if (name !== undefined) this.#pages.drop(name)
      return false
    }
    this.#hold(entry)
    Object.assign(entry.record, structuredClone(outcome), { finished_at: finishedAt })
    entry.cancelRequested = true
    if (name !== undefined) entry.partitions.setRows(name)
    this.#expire(id, entry, finishedAt)
    await this.#ended(entry, name === undefined ? [] : [name])
    return true
  }

  async resultEntry (id: string, seq: number): Promise<ResultEntry | undefined> {
    const entry = this.#scans.get(id)
    return entry?.partitions?.entry(seq, entry.record.status === 'succeeded')
  }

  async readEntryPages (id: string, part: number, from: number, count: number): Promise<string[]> {
    return await this.#scans.get(id)?.partitions?.pages(part, from, count) ?? []
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
    if (previousAttempt !== null) this.#pages.drop(`${id}.${previousAttempt}`)
    Object.assign(entry.record, { status: 'running', attempt, started_at: startedAt, result: { count: 0, truncated: false } })
    entry.record.progress = { ...entry.record.progress, processed: 0, matched: 0, skipped: 0, fraction: 0, records_per_second: 0, eta_seconds: null }
    const began = { record: this.#view(entry), previousAttempt, cancelRequested: entry.cancelRequested, crashedAttempts: entry.crashes }
    await this.#write(id, { t: 'record', record: entry.record, cancelRequested: entry.cancelRequested, crashes: entry.crashes })
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
    const entry = this.#current(id, attempt)
    if (entry === undefined) return false
    entry.record.progress = { ...update.progress }
    entry.record.result = { ...update.result }
    return true
  }

  async appendPages (id: string, attempt: string, pages: string[]): Promise<boolean> {
    if (this.#current(id, attempt) === undefined) return false
    await this.#pages.append(`${id}.${attempt}`, pages)
    return true
  }

  async finish (id: string, attempt: string, outcome: ScanOutcome, finishedAt: string): Promise<boolean> {
    const entry = this.#current(id, attempt)
    if (entry === undefined) return false
    this.#hold(entry)
    Object.assign(entry.record, structuredClone(outcome), { finished_at: finishedAt })
    this.#expire(id, entry, finishedAt)
    await this.#ended(entry, [`${id}.${attempt}`])
    return true
  }

  async abandon (id: string, error: ScanErrorInfo, finishedAt: string): Promise<boolean> {
    const entry = this.#scans.get(id)
    if (entry === undefined || FINISHED_STATUSES.has(entry.record.status)) return false
    this.#queued.delete(id)
    this.#hold(entry)
    Object.assign(entry.record, { status: 'failed', error, finished_at: finishedAt })
    this.#expire(id, entry, finishedAt)
    await this.#ended(entry, entry.record.attempt === null ? [] : [`${id}.${entry.record.attempt}`])
    return true
  }

  async cancel (id: string, finishedAt: string): Promise<CancelResult | undefined> {
    const entry = this.#scans.get(id)
    if (entry === undefined) return undefined
    const { status } = entry.record
    if (status === 'queued') {
      this.#queued.delete(id)
      this.#hold(entry)
      Object.assign(entry.record, { status: 'cancelled', finished_at: finishedAt, error: scanError(new ScanCancelledError('before it started')) })
      this.#expire(id, entry, finishedAt)
      await this.#ended(entry)
      return { outcome: 'cancelled' }
    }
    if (status === 'running') {
      entry.cancelRequested = true
      this.#cancels.emit('cancel', id)
      await this.#write(id, { t: 'record', record: entry.record, cancelRequested: true, crashes: entry.crashes })
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
    await this.#drop(id)
    return { outcome: 'removed' }
  }

  async readPages (id: string, attempt: string, from: number, count: number): Promise<string[]> {
    const entry = this.#scans.get(id)
    if (entry === undefined || entry.record.attempt !== attempt) return []
    return await this.#pages.read(`${id}.${attempt}`, from, count)
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
    if (existing !== undefined) return existing.value
    this.#claim(key, { value, claimedAt: Date.now() })
    return undefined
  }

  #claim (key: string, claim: { value: string, claimedAt: number }): void {
    this.#idempotency.set(key, claim)
    this.#later(claim.claimedAt + this.#retentionMs - Date.now(), () => { if (this.#idempotency.get(key) === claim) this.#idempotency.delete(key) })
  }

  async ping (): Promise<void> {}

  async close (): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer)
    this.#timers.clear()
    this.#cancels.removeAllListeners()
    await this.#pages.close()
    await this.#journal?.close()
  }

  /**
   * Takes back the scans a state directory kept. Nothing runs after a restart: a running scan is
   * queued again from its start, a running partition of a partitioned scan is queued again (its
   * committed ones stay). `crashed`: the last process died without closing the store, so what ran
   * counts as crashed (`PARASCAN_MAX_CRASHED_ATTEMPTS`) or, for a partition, as lost; a scan with a
   * partition lost more than `maxLostRuns` times is given up on.
   */
  async restore (scans: StoredScan[], crashed: boolean, maxLostRuns: number): Promise<Recovery> {
    const recovery: Recovery = { resume: [], lost: [] }
    const now = Date.now()
    for (const stored of scans.sort((a, b) => a.record.id < b.record.id ? -1 : 1)) {
      const { record } = stored
      const entry: Entry = { record, cancelRequested: stored.cancelRequested, crashes: stored.crashes, ...(stored.key === undefined ? {} : { key: stored.key }) }
      if (stored.partitions !== undefined) entry.partitions = new MemoryPartitions(record.id, this.#pages, stored.partitions.layout, stored.partitions)
      this.#scans.set(record.id, entry)
      this.#charges.restore(keptCharges(stored))
      if (FINISHED_STATUSES.has(record.status)) {
        const left = Date.parse(record.expires_at ?? '') - now
        if (!(left > 0)) {
          await this.#drop(record.id)
          continue
        }
        entry.expiry = this.#later(left, () => { if (this.#scans.get(record.id) === entry) void this.#drop(record.id).catch(() => {}) })
      } else if (record.status === 'running' && entry.partitions !== undefined) {
        const lost = entry.partitions.requeue(crashed)
        await this.#write(record.id, { t: 'partitions', partitions: entry.partitions.toJSON() })
        if (lost > maxLostRuns) recovery.lost.push(record.id)
        else recovery.resume.push(record.id)
      } else {
        if (record.status === 'running') {
          if (crashed) entry.crashes++
          if (record.attempt !== null) this.#pages.drop(`${record.id}.${record.attempt}`)
          Object.assign(record, { status: 'queued', attempt: null, started_at: null, progress: emptyProgress(record.progress.total), result: { count: 0, truncated: false } })
          await this.#write(record.id, { t: 'record', record, cancelRequested: entry.cancelRequested, crashes: entry.crashes })
        }
        this.#queued.set(record.id, record.tenant)
        recovery.resume.push(record.id)
      }
      if (stored.key !== undefined && stored.key.claimedAt + this.#retentionMs > now && !this.#idempotency.has(stored.key.key)) {
        this.#claim(stored.key.key, { value: stored.key.value, claimedAt: stored.key.claimedAt })
      }
    }
    return recovery
  }

  /** Pages names the scans show, each with whether it holds results: what a state directory keeps. */
  pageNames (): Map<string, boolean> {
    const names = new Map<string, boolean>()
    for (const [id, { record, partitions }] of this.#scans) {
      if (partitions !== undefined) for (const [name, required] of partitions.visibleNames()) names.set(name, required)
      else if (record.attempt !== null) names.set(`${id}.${record.attempt}`, record.result.count > 0)
    }
    return names
  }

  #stored (entry: Entry): StoredScan {
    return {
      record: entry.record,
      cancelRequested: entry.cancelRequested,
      crashes: entry.crashes,
      ...(entry.key === undefined ? {} : { key: entry.key }),
      ...(entry.partitions === undefined ? {} : { partitions: entry.partitions.toJSON() }),
      ...(this.#charges.of(entry.record.id).length === 0 ? {} : { charges: this.#charges.of(entry.record.id) })
    }
  }

  async #write (id: string, ...changes: ScanChange[]): Promise<void> {
    if (this.#journal === undefined) return
    await Promise.all(changes.map(async (change) => await this.#journal!.changed(id, change)))
  }

  /** Readers keep seeing the record as it is until the change that follows is durable (`#ended`). */
  #hold (entry: Entry): void {
    if (this.#journal !== undefined && entry.shown === undefined) entry.shown = structuredClone(entry.record)
  }

  async #ended (entry: Entry, seal: string[] = []): Promise<void> {
    if (this.#journal === undefined) return
    const ended = this.#journal.ended(this.#stored(entry), seal)
    delete entry.request
    try {
      await ended
    } finally {
      delete entry.shown
    }
  }

  #current (id: string, attempt: string): Entry | undefined {
    const entry = this.#scans.get(id)
    if (entry === undefined || entry.record.status !== 'running' || entry.record.attempt !== attempt) return undefined
    return entry
  }

  #expire (id: string, entry: Entry, finishedAt: string): void {
    entry.record.expires_at = new Date(Date.parse(finishedAt) + this.#retentionMs).toISOString()
    entry.expiry = this.#later(this.#retentionMs, () => { if (this.#scans.get(id) === entry) void this.#drop(id).catch(() => {}) })
  }

  async #drop (id: string): Promise<void> {
    const entry = this.#scans.get(id)
    if (entry === undefined) return
    if (entry.expiry !== undefined) {
      clearTimeout(entry.expiry)
      this.#timers.delete(entry.expiry)
    }
    this.#scans.delete(id)
    this.#queued.delete(id)
    this.#charges.drop(id)
    await this.#journal?.removed(id)
    for (const name of entry.partitions?.names() ?? []) this.#pages.drop(name)
    if (entry.record.attempt !== null) this.#pages.drop(`${id}.${entry.record.attempt}`)
  }

  #later (ms: number, fn: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => { this.#timers.delete(timer); fn() }, Math.max(0, Math.min(ms, 2 ** 31 - 1)))
    timer.unref()
    this.#timers.add(timer)
    return timer
  }
}

/**
 * The charges of a kept scan whose pages stay: all of a scan that ended; of a running partitioned
 * scan, those of its committed partitions; none of a scan that runs again from its start.
 */
function keptCharges ({ record, partitions, charges = [] }: StoredScan): StoredCharge[] {
  if (FINISHED_STATUSES.has(record.status)) return charges
  if (record.status !== 'running' || partitions === undefined) return []
  return charges.filter(({ unit, attempt }) => {
    const part = partitions.parts[Number(unit.slice(unit.indexOf('/') + 1))]
    return part?.state === 'committed' && part.attempt === attempt
  })
}
