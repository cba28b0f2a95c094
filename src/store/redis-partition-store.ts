import type { Redis } from 'ioredis'
import { luaScript } from './lua-script.js'
import type { ScanOutcome } from './scan-record.js'
import type {
  PartitionBeginResult, PartitionCommit, PartitionCounts, PartitionLayout, PartitionMode, PartitionState, ResultEntry
} from './partition-record.js'

const SCRIPTS = {
  partitionPlan: { numberOfKeys: 1, file: 'partition-plan' },
  partitionBegin: { numberOfKeys: 2, file: 'partition-begin' },
  partitionAppend: { numberOfKeys: 3, file: 'partition-append' },
  partitionProgress: { numberOfKeys: 2, file: 'partition-progress' },
  partitionCommit: { numberOfKeys: 5, file: 'partition-commit' },
  partitionFinish: { numberOfKeys: 6, file: 'partition-finish' },
  partitionDrop: { numberOfKeys: 6, file: 'partition-drop' },
  partitionRelease: { numberOfKeys: 1, file: 'partition-release' },
  resultEntry: { numberOfKeys: 3, file: 'result-entry' }
} as const

type Scripted = Redis & {
  [name in keyof typeof SCRIPTS]: (...args: string[]) => Promise<unknown>
}

/** The partition keys of one scan, all in the scan's hash slot. */
export class PartitionKeys {
  readonly scan: string
  constructor (scanKey: string) { this.scan = scanKey }
  get parts (): string { return `${this.scan}:parts` }
  get log (): string { return `${this.scan}:log` }
  get rows (): string { return `${this.scan}:rows` }
  get commits (): string { return `${this.scan}:commits` }
  get readIndex (): string { return `${this.scan}:ordered` }
  pages (part: number): string { return `${this.scan}:part:${part}` }
  attemptPages (part: number, attempt: string): string { return `${this.scan}:part:${part}:${attempt}` }
}

const counts = (c: PartitionCounts): string => `${c.processed},${c.matched},${c.skipped}`

/** The partitioned-scan half of RedisScanStore: Lua scripts in src/store/lua. */
export class RedisPartitionStore {
  readonly #redis: Scripted
  readonly #keys: (id: string) => PartitionKeys

  constructor (redis: Redis, scanKey: (id: string) => string) {
    this.#redis = redis as Scripted
    this.#keys = (id) => new PartitionKeys(scanKey(id))
    for (const [name, script] of Object.entries(SCRIPTS)) {
      redis.defineCommand(name, { numberOfKeys: script.numberOfKeys, lua: luaScript(script.file) })
    }
  }

  async plan (id: string, attempt: string, layout: PartitionLayout, progress: unknown): Promise<boolean> {
    return await this.#redis.partitionPlan(this.#keys(id).scan, attempt, String(layout.partitions), layout.mode, String(layout.cap),
      String(layout.total), JSON.stringify(progress)) === 1
  }

  async begin (id: string, part: number, attempt: string): Promise<PartitionBeginResult> {
    const k = this.#keys(id)
    const [outcome, runs, unsettled] = await this.#redis.partitionBegin(k.scan, k.parts, String(part), attempt) as [string, number?, number?]
    return outcome === 'began' ? { outcome, runs: Number(runs), unsettled: unsettled === 1 } : { outcome: outcome as 'committed' | 'cancelled' | 'gone' }
  }

  async release (id: string, part: number, attempt: string): Promise<void> {
    await this.#redis.partitionRelease(this.#keys(id).parts, String(part), attempt)
  }

  async append (id: string, part: number, attempt: string, pages: string[]): Promise<boolean> {
    if (pages.length === 0) return true
    const k = this.#keys(id)
    return await this.#redis.partitionAppend(k.scan, k.parts, k.attemptPages(part, attempt), String(part), attempt, ...pages) === 1
  }

  async update (id: string, part: number, attempt: string, c: PartitionCounts): Promise<boolean> {
    const k = this.#keys(id)
    return await this.#redis.partitionProgress(k.scan, k.parts, String(part), attempt, counts(c)) === 1
  }

  async commit (id: string, part: number, attempt: string, commit: PartitionCommit): Promise<boolean> {
    const k = this.#keys(id)
    return await this.#redis.partitionCommit(k.scan, k.parts, k.log, k.commits, k.readIndex, String(part), attempt, String(commit.count), counts(commit),
      JSON.stringify({ errors: commit.errors, partial: commit.partial, metrics: commit.metrics, truncated: commit.truncated })) === 1
  }

  /** Where the partitions are; with `commits`, also what each committed partition stored (errors, partial aggregate, metrics). */
  async states (id: string, layout: PartitionLayout, commits = false): Promise<PartitionState[]> {
    const k = this.#keys(id)
    const [hash, committed] = await Promise.all([this.#redis.hgetall(k.parts), commits ? this.#redis.hgetall(k.commits) : {}])
    return decodeStates(hash, committed, layout.partitions)
  }

  async finish (id: string, outcome: ScanOutcome, finishedAt: string, expiresAt: string, retentionMs: number, rows: string[]): Promise<boolean> {
    const k = this.#keys(id)
    return await this.#redis.partitionFinish(k.scan, k.parts, k.log, k.rows, k.commits, k.readIndex, outcome.status, finishedAt, expiresAt, String(retentionMs),
      JSON.stringify(outcome.progress), JSON.stringify(outcome.result), JSON.stringify(outcome.error), JSON.stringify(outcome.errors),
      JSON.stringify(outcome.metrics), ...rows) === 1
  }

  async drop (id: string): Promise<void> {
    const k = this.#keys(id)
    await this.#redis.partitionDrop(k.scan, k.parts, k.log, k.rows, k.commits, k.readIndex)
  }

  async resultEntry (id: string, seq: number): Promise<ResultEntry | undefined> {
    const k = this.#keys(id)
    const entry = await this.#redis.resultEntry(k.scan, k.log, k.readIndex, String(seq)) as [number, number, number] | null
    return entry === null ? undefined : { seq: Number(entry[0]), part: Number(entry[1]), limit: Number(entry[2]) }
  }

  async readEntryPages (id: string, part: number, from: number, count: number): Promise<string[]> {
    const k = this.#keys(id)
    return await this.#redis.lrange(part === -1 ? k.rows : k.pages(part), from, from + count - 1)
  }
}

/** The layout stored in a scan hash, or undefined when the scan is not partitioned. */
export function decodeLayout (fields: { partitions?: string | null, pmode?: string | null, cap?: string | null, ptotal?: string | null }): PartitionLayout | undefined {
  if (fields.partitions == null) return undefined
  return { partitions: Number(fields.partitions), mode: fields.pmode as PartitionMode, cap: Number(fields.cap), total: Number(fields.ptotal) }
}

function decodeStates (hash: Record<string, string>, commits: Record<string, string>, partitions: number): PartitionState[] {
  const states: PartitionState[] = []
  for (let index = 0; index < partitions; index++) {
    const s = hash[`${index}:s`]
    const [processed, matched, skipped] = (hash[`${index}:p`] ?? '0,0,0').split(',').map(Number)
    const state: PartitionState = {
      index,
      state: s === 'c' ? 'committed' : s === 'r' ? 'running' : 'queued',
      runs: Number(hash[`${index}:n`] ?? 0),
      processed,
      matched,
      skipped
    }
    if (s === 'c') {
      const extra = JSON.parse(commits[String(index)] ?? '{}') as Omit<PartitionCommit, 'count' | keyof PartitionCounts>
      state.commit = { ...extra, errors: extra.errors ?? [], metrics: extra.metrics ?? null, truncated: extra.truncated ?? false, count: Number(hash[`${index}:c`] ?? 0), processed, matched, skipped }
    }
    states.push(state)
  }
  return states
}
