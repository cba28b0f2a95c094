import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import type { BeginResult, CancelResult, CreateOutcome, ListOptions, QueueAdmission, RemoveResult, ScanStore } from './scan-store.js'
import type { ScanOutcome, ScanProgressUpdate, ScanRecord } from './scan-record.js'
import type { ScanErrorInfo, ScanStatusName } from '../../schemas/scan-status.js'
import type { ScanRequest } from '../../schemas/scan-request.js'
import { decodeLayout, RedisPartitionStore } from './redis-partition-store.js'
import type { PartitionBeginResult, PartitionCommit, PartitionCounts, PartitionLayout, PartitionState, ResultEntry } from './partition-record.js'
import { partitionedView } from '../partitions/partition-progress.js'
import { RedisStorageCharges } from './redis-storage-charges.js'
import type { StorageCharge, StorageUsage } from './storage-charge.js'

export interface RedisScanStoreOptions {
  /** Connection for commands; the store closes it. Required. */
  connection: Redis
  /** Connection for the cancel channel (subscriber mode); the store closes it. Default: a duplicate of `connection`. */
  subscriber?: Redis
  /** Namespace of every key. Default: 'parascan'. */
  keyPrefix?: string
  /** How long finished scans, their results and idempotency keys are kept (ms). Default: 24 h. */
  retentionMs?: number
  /**
   * When set, the store says in Redis that this instance lives (a key renewed every third of this
   * many ms) and names it in the scans it begins, so that the next attempt of a scan can tell an
   * attempt whose instance died from one that was handed back or whose instance is still alive.
   * Keep it at most the queue's lock duration. Default: unset (attempts are not counted as crashed).
   */
  instanceTtlMs?: number
}

const CHECK_ATTEMPT = `
if redis.call('HGET', KEYS[1], 'status') ~= 'running' or redis.call('HGET', KEYS[1], 'attempt') ~= ARGV[1] then return 0 end`

// The queued scans, in all and per tenant, for admission: every script that takes a scan out of 'queued' calls this.
const DEQUEUE = `
local function dequeue (key, prefix, id)
  redis.call('ZREM', prefix .. 'queued', id)
  redis.call('ZREM', prefix .. 'queued:' .. (redis.call('HGET', key, 'tenant') or ''), id)
end`

const SCRIPTS = {
  scanCreate: {
    numberOfKeys: 4,
    lua: `
if redis.call('EXISTS', KEYS[1]) == 1 then return 2 end
if tonumber(ARGV[2]) >= 0 and redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[2]) then return 0 end
if tonumber(ARGV[3]) >= 0 and redis.call('ZCARD', KEYS[4]) >= tonumber(ARGV[3]) then return -1 end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('ZADD', KEYS[2], 0, ARGV[1])
redis.call('ZADD', KEYS[3], 0, ARGV[1])
redis.call('ZADD', KEYS[4], 0, ARGV[1])
return 1`
  },
  scanBegin: {
    numberOfKeys: 1,
    lua: `${DEQUEUE}
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'queued' and status ~= 'running' then return false end
local tenant = redis.call('HGET', KEYS[1], 'tenant') or ''
local running = ARGV[5] .. 'running:' .. tenant
if tonumber(ARGV[9]) > 0 and status == 'queued' and
  redis.call('ZCARD', ARGV[5] .. 'queued') > redis.call('ZCARD', ARGV[5] .. 'queued:' .. tenant) then
  local count = 0
  for _, other in ipairs(redis.call('SMEMBERS', running)) do
    if redis.call('HGET', ARGV[5] .. 'scan:{' .. other .. '}', 'status') == 'running' then count = count + 1
    else redis.call('SREM', running, other) end
  end
  if count >= tonumber(ARGV[9]) then return 'busy' end
end
redis.call('SADD', running, ARGV[6])
local previous = redis.call('HGET', KEYS[1], 'attempt') or ''
local cancel = redis.call('HGET', KEYS[1], 'cancel') or ''
local crashes = tonumber(redis.call('HGET', KEYS[1], 'crashes') or '0')
if status == 'running' and ARGV[8] ~= '' and redis.call('HGET', KEYS[1], 'instance') == ARGV[8] then crashes = crashes + 1 end
dequeue(KEYS[1], ARGV[5], ARGV[6])
redis.call('HSET', KEYS[1], 'status', 'running', 'attempt', ARGV[1], 'started_at', ARGV[2], 'progress', ARGV[3], 'result', ARGV[4],
  'instance', ARGV[7], 'crashes', crashes)
return { previous, cancel, crashes }`
  },
  scanRelease: {
    numberOfKeys: 1,
    lua: `${CHECK_ATTEMPT}
redis.call('HSET', KEYS[1], 'instance', '')
return 1`
  },
  scanUpdate: {
    numberOfKeys: 1,
    lua: `${CHECK_ATTEMPT}
redis.call('HSET', KEYS[1], 'progress', ARGV[2], 'result', ARGV[3])
return 1`
  },
  scanAppend: {
    numberOfKeys: 2,
    lua: `${CHECK_ATTEMPT}
redis.call('RPUSH', KEYS[2], unpack(ARGV, 2))
return 1`
  },
  scanFinish: {
    numberOfKeys: 2,
    lua: `${CHECK_ATTEMPT}
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'finished_at', ARGV[3], 'expires_at', ARGV[4], 'progress', ARGV[6],
  'result', ARGV[7], 'error', ARGV[8], 'errors', ARGV[9], 'metrics', ARGV[10])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
return 1`
  },
  scanAbandon: {
    numberOfKeys: 1,
    lua: `${DEQUEUE}
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'queued' and status ~= 'running' then return 0 end
dequeue(KEYS[1], ARGV[5], ARGV[6])
redis.call('HSET', KEYS[1], 'status', 'failed', 'finished_at', ARGV[1], 'expires_at', ARGV[2], 'error', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local attempt = redis.call('HGET', KEYS[1], 'attempt')
if attempt and attempt ~= '' then redis.call('PEXPIRE', ARGV[5] .. 'scan:{' .. ARGV[6] .. '}:pages:' .. attempt, ARGV[3]) end
return 1`
  },
  scanCancel: {
    numberOfKeys: 1,
    lua: `${DEQUEUE}
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return false end
if status == 'queued' then
  dequeue(KEYS[1], ARGV[5], ARGV[6])
  redis.call('HSET', KEYS[1], 'status', 'cancelled', 'finished_at', ARGV[1], 'expires_at', ARGV[2], 'error', ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 'now'
end
if status == 'running' then
  redis.call('HSET', KEYS[1], 'cancel', '1')
  return 'signalled'
end
return 'finished:' .. status`
  },
  scanRemove: {
    numberOfKeys: 2,
    lua: `
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return false end
if status == 'queued' or status == 'running' then return { 'active', status } end
local attempt = redis.call('HGET', KEYS[1], 'attempt') or ''
local idempotency = redis.call('HGET', KEYS[1], 'idempotency_key')
if idempotency and idempotency ~= '' then
  local claim = ARGV[2] .. 'idempotency:' .. idempotency
  local value = redis.call('GET', claim)
  if value and string.find(value, ARGV[1], 1, true) then redis.call('DEL', claim) end
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return { 'removed', attempt }`
  }
} as const

type ScriptedRedis = Redis & {
  scanCreate(key: string, indexKey: string, queuedKey: string, tenantQueuedKey: string, id: string, maxQueued: string, maxTenantQueued: string, ...fields: string[]): Promise<number>
  scanBegin(key: string, attempt: string, startedAt: string, progress: string, result: string, prefix: string, id: string, instance: string, deadInstance: string, maxRunningPerTenant: string): Promise<[string, string, number] | 'busy' | null>
  scanRelease(key: string, attempt: string): Promise<number>
  scanUpdate(key: string, attempt: string, progress: string, result: string): Promise<number>
  scanAppend(key: string, pagesKey: string, attempt: string, ...pages: string[]): Promise<number>
  scanFinish(key: string, pagesKey: string, ...args: string[]): Promise<number>
  scanAbandon(key: string, finishedAt: string, expiresAt: string, ttl: string, error: string, prefix: string, id: string): Promise<number>
  scanCancel(key: string, finishedAt: string, expiresAt: string, ttl: string, error: string, prefix: string, id: string): Promise<string | null>
  scanRemove(key: string, indexKey: string, id: string, prefix: string): Promise<[string, string] | null>
}

const JSON_FIELDS = ['progress', 'result', 'error', 'errors', 'metrics'] as const
const RECORD_FIELDS = ['id', 'status', 'created_at', 'started_at', 'finished_at', 'expires_at', 'attempt', 'tenant', 'idempotency_key', ...JSON_FIELDS,
  'partitions', 'pmode', 'cap', 'ptotal', 'stored', 'cancel'] as const

/** Scans in Redis, shared by every instance that uses the same key prefix. */
export class RedisScanStore implements ScanStore {
  readonly #redis: ScriptedRedis
  readonly #subscriber: Redis
  readonly #prefix: string
  readonly #retentionMs: number
  readonly #listeners: Array<(id: string) => void> = []
  readonly #instance: string
  readonly #instanceTtlMs: number
  #heartbeat: NodeJS.Timeout | undefined
  #subscribed: Promise<unknown> | undefined
  readonly #partitions: RedisPartitionStore
  readonly #charges: RedisStorageCharges

  constructor (options: RedisScanStoreOptions) {
    this.#redis = options.connection as ScriptedRedis
    this.#subscriber = options.subscriber ?? options.connection.duplicate()
    this.#prefix = `${options.keyPrefix ?? 'parascan'}:`
    this.#retentionMs = options.retentionMs ?? 86_400_000
    this.#instance = options.instanceTtlMs === undefined ? '' : randomUUID()
    this.#instanceTtlMs = options.instanceTtlMs ?? 0
    if (options.instanceTtlMs !== undefined) {
      const ttl = options.instanceTtlMs
      const beat = (): void => { this.#redis.set(`${this.#prefix}instance:${this.#instance}`, '1', 'PX', ttl).catch(() => {}) }
      beat()
      this.#heartbeat = setInterval(beat, Math.max(100, Math.floor(ttl / 3)))
      this.#heartbeat.unref()
      this.#redis.on('ready', beat)
    }
    for (const [name, script] of Object.entries(SCRIPTS)) {
      this.#redis.defineCommand(name, script)
    }
    this.#partitions = new RedisPartitionStore(this.#redis, (id) => this.#key(id))
    this.#charges = new RedisStorageCharges(this.#redis, this.#prefix)
    this.#subscriber.on('message', (channel: string, id: string) => {
      if (channel === this.#channel) for (const listener of this.#listeners) listener(id)
    })
  }

  get #channel (): string { return `${this.#prefix}cancel` }
  get #index (): string { return `${this.#prefix}scan-index` }
  #key (id: string): string { return `${this.#prefix}scan:{${id}}` }
  #pagesKey (id: string, attempt: string): string { return `${this.#prefix}scan:{${id}}:pages:${attempt}` }

  async create (record: ScanRecord, request: ScanRequest, admission?: QueueAdmission): Promise<CreateOutcome> {
    const fields: Record<string, string> = {
      id: record.id,
      status: record.status,
      created_at: record.created_at,
      attempt: record.attempt ?? '',
      tenant: record.tenant ?? '',
      idempotency_key: record.idempotency_key ?? ''
    }
    for (const name of JSON_FIELDS) fields[name] = JSON.stringify(record[name])
    fields.request = JSON.stringify(request)
    const created = await this.#redis.scanCreate(this.#key(record.id), this.#index, `${this.#prefix}queued`, `${this.#prefix}queued:${record.tenant ?? ''}`,
      record.id, String(admission?.maxQueued ?? -1), String(admission?.maxQueuedPerTenant ?? -1), ...Object.entries(fields).flat())
    return created === 1 ? 'created' : created === 2 ? 'exists' : created === 0 ? 'queue_full' : 'tenant_queue_full'
  }

  async get (id: string): Promise<ScanRecord | undefined> {
    const values = await this.#redis.hmget(this.#key(id), ...RECORD_FIELDS)
    return values[1] === null ? undefined : await this.#withPartitions(this.#decode(Object.fromEntries(RECORD_FIELDS.map((name, i) => [name, values[i] ?? undefined]))))
  }

  async getRequest (id: string): Promise<ScanRequest | undefined> {
    const text = await this.#redis.hget(this.#key(id), 'request')
    return text === null ? undefined : JSON.parse(text) as ScanRequest
  }

  async list (options: ListOptions): Promise<ScanRecord[]> {
    const out: ScanRecord[] = []
    let before = options.before
    const batch = Math.max(options.limit, 50)
    for (;;) {
      const ids = await this.#redis.zrevrangebylex(this.#index, before === undefined ? '+' : `(${before}`, '-', 'LIMIT', 0, batch)
      if (ids.length === 0) return out
      const pipeline = this.#redis.pipeline()
      for (const id of ids) pipeline.hmget(this.#key(id), ...RECORD_FIELDS)
      const hashes = (await pipeline.exec()) ?? []
      const gone: string[] = []
      for (let i = 0; i < ids.length; i++) {
        const values = hashes[i]?.[1] as Array<string | null> | undefined
        if (values?.[1] == null) {
          gone.push(ids[i])
          continue
        }
        const record = await this.#withPartitions(this.#decode(Object.fromEntries(RECORD_FIELDS.map((name, j) => [name, values[j] ?? undefined]))))
        if (options.status !== undefined && record.status !== options.status) continue
        if (options.tenant !== undefined && record.tenant !== options.tenant) continue
        out.push(record)
        if (out.length >= options.limit) break
      }
      if (gone.length > 0) await this.#redis.zrem(this.#index, ...gone)
      if (out.length >= options.limit || ids.length < batch) return out
      before = ids[ids.length - 1]
    }
  }

  async begin (id: string, attempt: string, startedAt: string): Promise<BeginResult | undefined>
  async begin (id: string, attempt: string, startedAt: string, maxRunningPerTenant: number): Promise<BeginResult | 'busy' | undefined>
  async begin (id: string, attempt: string, startedAt: string, maxRunningPerTenant = 0): Promise<BeginResult | 'busy' | undefined> {
    const key = this.#key(id)
    const current = await this.get(id)
    if (current === undefined) return undefined
    const progress = { ...current.progress, processed: 0, matched: 0, skipped: 0, fraction: 0, records_per_second: 0, eta_seconds: null }
    const dead = current.status === 'running' ? await this.#deadInstance(id) : ''
    const began = await this.#redis.scanBegin(key, attempt, startedAt, JSON.stringify(progress), JSON.stringify({ count: 0, truncated: false }), this.#prefix, id, this.#instance, dead, String(maxRunningPerTenant))
    if (began === null) return undefined
    if (began === 'busy') return 'busy'
    const [previous, cancel, crashes] = began
    if (previous !== '' && previous !== attempt) await this.#redis.del(this.#pagesKey(id, previous))
    const record = await this.get(id)
    if (record === undefined) return undefined
    return { record, previousAttempt: previous === '' ? null : previous, cancelRequested: cancel === '1', crashedAttempts: Number(crashes) }
  }

  /**
   * The instance named by a running scan when it no longer says that it lives, '' otherwise. An
   * instance that was cut off from Redis says so again within a third of its TTL once it is back:
   * it is given that long (and a second) before it counts as dead.
   */
  async #deadInstance (id: string): Promise<string> {
    const instance = await this.#redis.hget(this.#key(id), 'instance')
    if (instance === null || instance === '' || instance === this.#instance) return ''
    const alive = async (): Promise<boolean> => await this.#redis.exists(`${this.#prefix}instance:${instance}`) === 1
    if (await alive()) return ''
    await new Promise((resolve) => setTimeout(resolve, Math.floor(this.#instanceTtlMs / 3) + 1000))
    return await alive() ? '' : instance
  }

  async release (id: string, attempt: string): Promise<void> {
    await this.#redis.scanRelease(this.#key(id), attempt)
  }

  async update (id: string, attempt: string, update: ScanProgressUpdate): Promise<boolean> {
    return await this.#redis.scanUpdate(this.#key(id), attempt, JSON.stringify(update.progress), JSON.stringify(update.result)) === 1
  }

  async appendPages (id: string, attempt: string, pages: string[]): Promise<boolean> {
    if (pages.length === 0) return true
    return await this.#redis.scanAppend(this.#key(id), this.#pagesKey(id, attempt), attempt, ...pages) === 1
  }

  async finish (id: string, attempt: string, outcome: ScanOutcome, finishedAt: string): Promise<boolean> {
    const expiresAt = new Date(Date.parse(finishedAt) + this.#retentionMs).toISOString()
    return await this.#redis.scanFinish(this.#key(id), this.#pagesKey(id, attempt), attempt, outcome.status, finishedAt, expiresAt,
      String(this.#retentionMs), JSON.stringify(outcome.progress), JSON.stringify(outcome.result), JSON.stringify(outcome.error),
      JSON.stringify(outcome.errors), JSON.stringify(outcome.metrics)) === 1
  }

  async abandon (id: string, error: ScanErrorInfo, finishedAt: string): Promise<boolean> {
    const expiresAt = new Date(Date.parse(finishedAt) + this.#retentionMs).toISOString()
    return await this.#redis.scanAbandon(this.#key(id), finishedAt, expiresAt, String(this.#retentionMs), JSON.stringify(error), this.#prefix, id) === 1
  }

  async cancel (id: string, finishedAt: string): Promise<CancelResult | undefined> {
    const expiresAt = new Date(Date.parse(finishedAt) + this.#retentionMs).toISOString()
    const error = JSON.stringify({ code: 'PARASCAN_SCAN_CANCELLED', message: 'Cancelled before it started' })
    const outcome = await this.#redis.scanCancel(this.#key(id), finishedAt, expiresAt, String(this.#retentionMs), error, this.#prefix, id)
    if (outcome === null) return undefined
    if (outcome === 'now') return { outcome: 'cancelled' }
    if (outcome === 'signalled') {
      await this.#redis.publish(this.#channel, id)
      return { outcome }
    }
    return { outcome: 'finished', status: outcome.slice('finished:'.length) as ScanStatusName }
  }

  async remove (id: string): Promise<RemoveResult | undefined> {
    await this.#partitions.drop(id)
    const removed = await this.#redis.scanRemove(this.#key(id), this.#index, id, this.#prefix)
    if (removed === null) return undefined
    if (removed[0] === 'active') return { outcome: 'active', status: removed[1] as ScanStatusName }
    if (removed[1] !== '') await this.#redis.del(this.#pagesKey(id, removed[1]))
    return { outcome: 'removed' }
  }

  async readPages (id: string, attempt: string, from: number, count: number): Promise<string[]> {
    return await this.#redis.lrange(this.#pagesKey(id, attempt), from, from + count - 1)
  }

  onCancelRequest (listener: (id: string) => void): void {
    this.#listeners.push(listener)
    this.#subscribed ??= this.#subscriber.subscribe(this.#channel)
  }

  /** Resolves once the cancel channel is subscribed (when a listener was added). */
  async ready (): Promise<void> {
    await this.#subscribed
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
    this.#listeners.length = 0
    if (this.#heartbeat !== undefined) {
      clearInterval(this.#heartbeat)
      await this.#redis.del(`${this.#prefix}instance:${this.#instance}`).catch(() => {})
    }
    await Promise.allSettled([this.#subscriber.quit(), this.#redis.quit()])
  }

  /** A partitioned scan's progress, result count and partitions summary, summed over its partitions while it runs. */
  async #withPartitions (decoded: ScanRecord & { layout?: PartitionLayout, stored?: number }): Promise<ScanRecord> {
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
    const expiresAt = new Date(Date.parse(finishedAt) + this.#retentionMs).toISOString()
    return await this.#partitions.finish(id, outcome, finishedAt, expiresAt, this.#retentionMs, rows)
  }

  async resultEntry (id: string, seq: number): Promise<ResultEntry | undefined> {
    return await this.#partitions.resultEntry(id, seq)
  }

  async readEntryPages (id: string, part: number, from: number, count: number): Promise<string[]> {
    return await this.#partitions.readEntryPages(id, part, from, count)
  }

  #decode (hash: Record<string, string | undefined>): ScanRecord & { layout?: PartitionLayout, stored?: number } {
    const parse = (name: typeof JSON_FIELDS[number]): unknown => hash[name] === undefined ? null : JSON.parse(hash[name]!)
    return {
      id: hash.id!,
      status: hash.status as ScanStatusName,
      created_at: hash.created_at!,
      started_at: hash.started_at ?? null,
      finished_at: hash.finished_at ?? null,
      expires_at: hash.expires_at ?? null,
      progress: parse('progress') as ScanRecord['progress'],
      result: parse('result') as ScanRecord['result'],
      error: parse('error') as ScanRecord['error'],
      errors: (parse('errors') ?? []) as ScanRecord['errors'],
      metrics: parse('metrics') as ScanRecord['metrics'],
      attempt: hash.attempt === '' || hash.attempt === undefined ? null : hash.attempt,
      ...(hash.tenant === undefined || hash.tenant === '' ? {} : { tenant: hash.tenant }),
      ...(hash.idempotency_key === undefined || hash.idempotency_key === '' ? {} : { idempotency_key: hash.idempotency_key }),
      ...(hash.partitions === undefined ? {} : { layout: decodeLayout(hash), stored: Number(hash.stored ?? 0) }),
      ...(hash.cancel === '1' ? { cancelRequested: true } : {})
    }
  }
}
