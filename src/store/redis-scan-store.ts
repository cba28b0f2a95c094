import type { Redis } from 'ioredis'
import type { BeginResult, CancelResult, CreateOutcome, ListOptions, QueueAdmission, RemoveResult, ScanHead, ScanStore } from './scan-store.js'
import type { ScanOutcome, ScanProgressUpdate, ScanRecord } from './scan-record.js'
import type { ScanErrorInfo, ScanStatusName } from '../../schemas/scan-status.js'
import type { ScanRequest } from '../../schemas/scan-request.js'
import { decodeLayout, RedisPartitionStore } from './redis-partition-store.js'
import type { PartitionBeginResult, PartitionCommit, PartitionCounts, PartitionLayout, PartitionState, ResultEntry } from './partition-record.js'
import { partitionedView } from '../partitions/partition-progress.js'
import { RedisStorageCharges } from './redis-storage-charges.js'
import type { StorageCharge, StorageUsage } from './storage-charge.js'
import { ScanCancelledError, scanError } from '../errors.js'
import { defineLuaCommands, type LuaCommands } from './lua-script.js'
import { InstanceLiveness } from './instance-liveness.js'
import { outcomeArgs, SCAN_SCRIPTS, type ScanEnding } from './scan-scripts.js'
import { decodeScanHash, decodeScanHead, encodeScanHash, HEAD_FIELDS, RECORD_FIELDS, type StoredScan } from './scan-hash.js'
import { RedisCancelChannel } from './redis-cancel-channel.js'
import { listScans } from './redis-scan-list.js'
import type { RedisScanStoreOptions } from './redis-scan-store-options.js'
import { SERVICE_DEFAULTS } from '../config/service-config.js'

export type { RedisScanStoreOptions } from './redis-scan-store-options.js'

/** Scans in Redis, shared by every instance that uses the same key prefix. */
export class RedisScanStore implements ScanStore {
  readonly #redis: Redis
  readonly #scripts: LuaCommands<typeof SCAN_SCRIPTS>
  readonly #cancels: RedisCancelChannel
  readonly #prefix: string
  readonly #retentionMs: number
  readonly #liveness: InstanceLiveness
  readonly #partitions: RedisPartitionStore
  readonly #charges: RedisStorageCharges

  constructor (options: RedisScanStoreOptions) {
    this.#redis = options.connection
    this.#prefix = `${options.keyPrefix ?? SERVICE_DEFAULTS.keyPrefix}:`
    this.#retentionMs = options.retentionMs ?? SERVICE_DEFAULTS.retentionMs
    this.#liveness = new InstanceLiveness(this.#redis, this.#prefix, options.instanceTtlMs)
    this.#scripts = defineLuaCommands(this.#redis, SCAN_SCRIPTS)
    this.#partitions = new RedisPartitionStore(this.#redis, (id) => this.#key(id))
    this.#charges = new RedisStorageCharges(this.#redis, this.#prefix)
    this.#cancels = new RedisCancelChannel(this.#redis, options.subscriber ?? options.connection.duplicate(), `${this.#prefix}cancel`)
  }

  get #index (): string { return `${this.#prefix}scan-index` }
  #key (id: string): string { return `${this.#prefix}scan:{${id}}` }
  #pagesKey (id: string, attempt: string): string { return `${this.#prefix}scan:{${id}}:pages:${attempt}` }

  /** When a scan that finishes at `finishedAt` expires, and its retention. */
  #ending (finishedAt: string): ScanEnding {
    return { finishedAt, expiresAt: new Date(Date.parse(finishedAt) + this.#retentionMs).toISOString(), retentionMs: this.#retentionMs }
  }

  async create (record: ScanRecord, request: ScanRequest, admission?: QueueAdmission): Promise<CreateOutcome> {
    const created = await this.#scripts.create({
      scan: this.#key(record.id),
      index: this.#index,
      queued: `${this.#prefix}queued`,
      tenantQueued: `${this.#prefix}queued:${record.tenant ?? ''}`,
      id: record.id,
      maxQueued: admission?.maxQueued ?? -1,
      maxQueuedPerTenant: admission?.maxQueuedPerTenant ?? -1,
      fields: encodeScanHash(record, request)
    })
    return created === 1 ? 'created' : created === 2 ? 'exists' : created === 0 ? 'queue_full' : 'tenant_queue_full'
  }

  async get (id: string): Promise<ScanRecord | undefined> {
    const values = await this.#redis.hmget(this.#key(id), ...RECORD_FIELDS)
    return values[1] === null ? undefined : await this.#withPartitions(decodeScanHash(values))
  }

  async head (id: string): Promise<ScanHead | undefined> {
    return decodeScanHead(id, await this.#redis.hmget(this.#key(id), ...HEAD_FIELDS))
  }

  async getRequest (id: string): Promise<ScanRequest | undefined> {
    const text = await this.#redis.hget(this.#key(id), 'request')
    return text === null ? undefined : JSON.parse(text) as ScanRequest
  }

  async list (options: ListOptions): Promise<ScanRecord[]> {
    return await listScans({ redis: this.#redis, index: this.#index, key: (id) => this.#key(id), record: async (stored) => await this.#withPartitions(stored) }, options)
  }

  async begin (id: string, attempt: string, startedAt: string): Promise<BeginResult | undefined>
  async begin (id: string, attempt: string, startedAt: string, maxRunningPerTenant: number): Promise<BeginResult | 'busy' | undefined>
  async begin (id: string, attempt: string, startedAt: string, maxRunningPerTenant = 0): Promise<BeginResult | 'busy' | undefined> {
    const key = this.#key(id)
    const current = await this.get(id)
    if (current === undefined) return undefined
    const progress = { ...current.progress, processed: 0, matched: 0, skipped: 0, fraction: 0, records_per_second: 0, eta_seconds: null }
    const dead = current.status === 'running' ? await this.#liveness.dead(await this.#redis.hget(key, 'instance')) : ''
    const began = await this.#scripts.begin({
      scan: key,
      attempt,
      startedAt,
      progress: JSON.stringify(progress),
      result: JSON.stringify({ count: 0, truncated: false }),
      prefix: this.#prefix,
      id,
      instance: this.#liveness.id,
      deadInstance: dead,
      maxRunningPerTenant
    })
    if (began === null) return undefined
    if (began === 'busy') return 'busy'
    const [previous, cancel, crashes] = began
    if (previous !== '' && previous !== attempt) await this.#redis.del(this.#pagesKey(id, previous))
    const record = await this.get(id)
    if (record === undefined) return undefined
    return { record, previousAttempt: previous === '' ? null : previous, cancelRequested: cancel === '1', crashedAttempts: Number(crashes) }
  }

  async release (id: string, attempt: string): Promise<void> {
    await this.#scripts.release({ scan: this.#key(id), attempt })
  }

  async update (id: string, attempt: string, update: ScanProgressUpdate): Promise<boolean> {
    return await this.#scripts.update({ scan: this.#key(id), attempt, progress: JSON.stringify(update.progress), result: JSON.stringify(update.result) })
  }

  async appendPages (id: string, attempt: string, pages: string[]): Promise<boolean> {
    if (pages.length === 0) return true
    return await this.#scripts.append({ scan: this.#key(id), attemptPages: this.#pagesKey(id, attempt), attempt, pages })
  }

  async finish (id: string, attempt: string, outcome: ScanOutcome, finishedAt: string): Promise<boolean> {
    return await this.#scripts.finish({ scan: this.#key(id), attemptPages: this.#pagesKey(id, attempt), attempt, ...outcomeArgs(outcome), ...this.#ending(finishedAt) })
  }

  async abandon (id: string, error: ScanErrorInfo, finishedAt: string): Promise<boolean> {
    return await this.#scripts.abandon({ scan: this.#key(id), ...this.#ending(finishedAt), error: JSON.stringify(error), prefix: this.#prefix, id })
  }

  async cancel (id: string, finishedAt: string): Promise<CancelResult | undefined> {
    const error = JSON.stringify(scanError(new ScanCancelledError('before it started')))
    const outcome = await this.#scripts.cancel({ scan: this.#key(id), ...this.#ending(finishedAt), error, prefix: this.#prefix, id })
    if (outcome === null) return undefined
    if (outcome === 'now') return { outcome: 'cancelled' }
    if (outcome === 'signalled') {
      await this.#cancels.publish(id)
      return { outcome }
    }
    return { outcome: 'finished', status: outcome.slice('finished:'.length) as ScanStatusName }
  }

  async remove (id: string): Promise<RemoveResult | undefined> {
    const [tenant, partitions] = await this.#redis.hmget(this.#key(id), 'tenant', 'partitions')
    await this.#partitions.drop(id)
    const removed = await this.#scripts.remove({ scan: this.#key(id), index: this.#index, id, prefix: this.#prefix })
    if (removed === null) return undefined
    if (removed[0] === 'active') return { outcome: 'active', status: removed[1] as ScanStatusName }
    if (removed[1] !== '') await this.#redis.del(this.#pagesKey(id, removed[1]))
    await this.#charges.drop(tenant === null || tenant === '' ? undefined : tenant, id, Number(partitions ?? 0))
    return { outcome: 'removed' }
  }

  async readPages (id: string, attempt: string, from: number, count: number): Promise<string[]> {
    return await this.#redis.lrange(this.#pagesKey(id, attempt), from, from + count - 1)
  }

  onCancelRequest (listener: (id: string) => void): void {
    this.#cancels.onRequest(listener)
  }

  /** Resolves once the cancel channel is subscribed (when a listener was added). */
  async ready (): Promise<void> {
    await this.#cancels.ready()
  }

  async chargeStorage (tenant: string | undefined, unit: string, attempt: string, bytes: number, quota: number): Promise<StorageCharge> {
    return await this.#charges.charge(tenant, unit, attempt, bytes, quota)
  }

  async storageUsage (tenant: string | undefined): Promise<StorageUsage> {
    return await this.#charges.usage(tenant)
  }

  async claimIdempotencyKey (key: string, value: string): Promise<string | undefined> {
    const redisKey = `${this.#prefix}idempotency:${key}`
    const set = await this.#redis.set(redisKey, value, 'PX', this.#retentionMs, 'NX')
    if (set === 'OK') return undefined
    return await this.#redis.get(redisKey) ?? undefined
  }

  async ping (): Promise<void> {
    await this.#redis.ping()
  }

  async close (): Promise<void> {
    this.#cancels.removeListeners()
    await this.#liveness.close()
    await Promise.allSettled([this.#cancels.close(), this.#redis.quit()])
  }

  /** A partitioned scan's progress, result count and partitions summary, summed over its partitions while it runs. */
  async #withPartitions (decoded: StoredScan): Promise<ScanRecord> {
    const { layout, stored, ...record } = decoded
    if (layout === undefined) return record
    const states = await this.#partitions.states(record.id, layout)
    const view = partitionedView(layout, states, record.started_at, stored ?? 0, record.status === 'running')
    if (record.status === 'running') return { ...record, ...view }
    return { ...record, partitions: view.partitions }
  }

  async planPartitions (id: string, attempt: string, layout: PartitionLayout): Promise<boolean> {
    const record = await this.get(id)
    if (record === undefined) return false
    return await this.#partitions.plan(id, attempt, layout, { ...record.progress, total: layout.total })
  }

  async beginPartition (id: string, part: number, attempt: string): Promise<PartitionBeginResult> {
    return await this.#partitions.begin(id, part, attempt)
  }

  async releasePartition (id: string, part: number, attempt: string): Promise<void> {
    await this.#partitions.release(id, part, attempt)
  }

  async appendPartitionPages (id: string, part: number, attempt: string, pages: string[]): Promise<boolean> {
    return await this.#partitions.append(id, part, attempt, pages)
  }

  async updatePartition (id: string, part: number, attempt: string, counts: PartitionCounts): Promise<boolean> {
    return await this.#partitions.update(id, part, attempt, counts)
  }

  async commitPartition (id: string, part: number, attempt: string, commit: PartitionCommit): Promise<boolean> {
    return await this.#partitions.commit(id, part, attempt, commit)
  }

  async partitionStates (id: string): Promise<PartitionState[]> {
    const values = await this.#redis.hmget(this.#key(id), 'partitions', 'pmode', 'cap', 'ptotal')
    const layout = decodeLayout({ partitions: values[0], pmode: values[1], cap: values[2], ptotal: values[3] })
    return layout === undefined ? [] : await this.#partitions.states(id, layout, true)
  }

  async finishPartitioned (id: string, outcome: ScanOutcome, finishedAt: string, rows: string[]): Promise<boolean> {
    return await this.#partitions.finish(id, outcome, this.#ending(finishedAt), rows)
  }

  async resultEntry (id: string, seq: number): Promise<ResultEntry | undefined> {
    return await this.#partitions.resultEntry(id, seq)
  }

  async readEntryPages (id: string, part: number, from: number, count: number): Promise<string[]> {
    return await this.#partitions.readEntryPages(id, part, from, count)
  }
}
