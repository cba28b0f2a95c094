import type { Redis } from 'ioredis'
import { defineLuaCommands, type LuaCommands } from './lua-script.js'
import { PARTITION_SCRIPTS } from './partition-scripts.js'
import { outcomeArgs, type ScanEnding } from './scan-scripts.js'
import type { ScanOutcome } from './scan-record.js'
import type {
  PartitionBeginResult, PartitionCommit, PartitionCounts, PartitionLayout, PartitionMode, PartitionState, ResultEntry
} from './partition-record.js'

/** The partition keys of one scan, all in the scan's hash slot. */
export class PartitionKeys {
  readonly scan: string
  constructor (scanKey: string) { this.scan = scanKey }
  get parts (): string { return `${this.scan}:parts` }
  get log (): string { return `${this.scan}:log` }
  get rows (): string { return `${this.scan}:rows` }
  get commits (): string { return `${this.scan}:commits` }
  pages (part: number): string { return `${this.scan}:part:${part}` }
  attemptPages (part: number, attempt: string): string { return `${this.scan}:part:${part}:${attempt}` }
}

const counts = (c: PartitionCounts): string => `${c.processed},${c.matched},${c.skipped}`

/** The partitioned-scan half of RedisScanStore: Lua scripts in src/store/lua. */
export class RedisPartitionStore {
  readonly #redis: Redis
  readonly #scripts: LuaCommands<typeof PARTITION_SCRIPTS>
  readonly #keys: (id: string) => PartitionKeys

  constructor (redis: Redis, scanKey: (id: string) => string) {
    this.#redis = redis
    this.#scripts = defineLuaCommands(redis, PARTITION_SCRIPTS)
    this.#keys = (id) => new PartitionKeys(scanKey(id))
  }

  async plan (id: string, attempt: string, layout: PartitionLayout, progress: unknown): Promise<boolean> {
    return await this.#scripts.plan({ scan: this.#keys(id).scan, attempt, ...layout, progress: JSON.stringify(progress) })
  }

  async begin (id: string, part: number, attempt: string): Promise<PartitionBeginResult> {
    const k = this.#keys(id)
    const [outcome, runs] = await this.#scripts.begin({ scan: k.scan, parts: k.parts, part, attempt })
    return outcome === 'began' ? { outcome, runs: Number(runs) } : { outcome }
  }

  async append (id: string, part: number, attempt: string, pages: string[]): Promise<boolean> {
    if (pages.length === 0) return true
    const k = this.#keys(id)
    return await this.#scripts.append({ scan: k.scan, parts: k.parts, attemptPages: k.attemptPages(part, attempt), part, attempt, pages })
  }

  async update (id: string, part: number, attempt: string, c: PartitionCounts): Promise<boolean> {
    const k = this.#keys(id)
    return await this.#scripts.progress({ scan: k.scan, parts: k.parts, part, attempt, counts: counts(c) })
  }

  async commit (id: string, part: number, attempt: string, commit: PartitionCommit): Promise<boolean> {
    const k = this.#keys(id)
    return await this.#scripts.commit({
      scan: k.scan,
      parts: k.parts,
      log: k.log,
      commits: k.commits,
      part,
      attempt,
      count: commit.count,
      counts: counts(commit),
      commit: JSON.stringify({ errors: commit.errors, partial: commit.partial, metrics: commit.metrics, truncated: commit.truncated })
    })
  }

  /** Where the partitions are; with `commits`, also what each committed partition stored (errors, partial aggregate, metrics). */
  async states (id: string, layout: PartitionLayout, commits = false): Promise<PartitionState[]> {
    const k = this.#keys(id)
    const [hash, committed] = await Promise.all([this.#redis.hgetall(k.parts), commits ? this.#redis.hgetall(k.commits) : {}])
    return decodeStates(hash, committed, layout.partitions)
  }

  async finish (id: string, outcome: ScanOutcome, ending: ScanEnding, rows: string[]): Promise<boolean> {
    return await this.#scripts.finish({ ...this.#allKeys(id), ...outcomeArgs(outcome), ...ending, rowPages: rows })
  }

  async drop (id: string): Promise<void> {
    await this.#scripts.drop(this.#allKeys(id))
  }

  async resultEntry (id: string, seq: number): Promise<ResultEntry | undefined> {
    const k = this.#keys(id)
    const entry = await this.#scripts.resultEntry({ scan: k.scan, parts: k.parts, log: k.log, seq })
    return entry === null ? undefined : { part: Number(entry[0]), limit: Number(entry[1]) }
  }

  #allKeys (id: string): { scan: string, parts: string, log: string, rows: string, commits: string } {
    const k = this.#keys(id)
    return { scan: k.scan, parts: k.parts, log: k.log, rows: k.rows, commits: k.commits }
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
