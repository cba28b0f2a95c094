import { randomBytes } from 'node:crypto'
import type { PartitionBeginResult, PartitionCommit, PartitionCounts, PartitionLayout, PartitionState, ResultEntry } from './partition-record.js'
import type { ResultPages } from './result-pages.js'
import { copyJson } from './copy-json.js'

/** A partition as the embedded store keeps it. */
export interface StoredPart extends PartitionState {
  /** The current attempt: its pages are the visible ones once it commits. */
  attempt?: string
  /** Attempts that ended with their process dead (counted when a state directory is opened again). */
  lost?: number
}

/** One stretch of an unordered scan's commit log. */
export interface LogEntry {
  part: number
  admitted: number
}

/** The partitions of one scan, as a state directory keeps them. */
export interface StoredPartitions {
  layout: PartitionLayout
  parts: StoredPart[]
  log: LogEntry[]
  /** Pages name of an aggregate's final rows. */
  rows?: string
  /** Signs the scan's results cursors. */
  cursorKey?: string
}

/** The partitions of one scan in the embedded store: the same rules as the Redis scripts. */
export class MemoryPartitions {
  readonly layout: PartitionLayout
  readonly #id: string
  readonly #pages: ResultPages
  readonly #parts: StoredPart[]
  /** Unordered: the commit log, entries that admit results only. */
  readonly #log: LogEntry[]
  /** Committed partitions whose commit is not yet durable: readers do not see them yet. */
  readonly #pending = new Set<number>()
  #stored = 0
  #pendingAdmitted = 0
  #rows: string | undefined
  /** Signs the scan's results cursors. */
  readonly cursorKey: string
  /** Ordered: the read index (partitions of the front that admit results, by index), the front and its results. */
  readonly #ordered: LogEntry[] = []
  #front = 0
  #frontBase = 0

  constructor (id: string, pages: ResultPages, layout: PartitionLayout, stored?: StoredPartitions) {
    this.#id = id
    this.#pages = pages
    this.layout = layout
    this.#parts = stored?.parts ?? Array.from({ length: layout.partitions }, (_, index) => ({ index, state: 'queued', runs: 0, processed: 0, matched: 0, skipped: 0 }))
    this.#log = stored?.log ?? []
    for (const { admitted } of this.#log) this.#stored += admitted
    this.#rows = stored?.rows
    this.cursorKey = stored?.cursorKey ?? randomBytes(16).toString('base64url')
    this.#advance()
  }

  /** Ordered scans: moves the front over the partitions committed after it, indexing those that admit results. */
  #advance (): void {
    if (this.layout.mode !== 'ordered') return
    for (let p = this.#parts[this.#front]; p?.state === 'committed' && !this.#pending.has(this.#front); p = this.#parts[++this.#front]) {
      const count = p.commit?.count ?? 0
      const admitted = Math.max(0, Math.min(count, this.layout.cap - this.#frontBase))
      if (admitted > 0) this.#ordered.push({ part: this.#front, admitted })
      this.#frontBase += count
    }
  }

  /** Results admitted by the commits readers see. */
  get stored (): number { return this.#stored - this.#pendingAdmitted }

  /** Pages name of an attempt of partition `part`. */
  #name (part: number, attempt: string): string {
    return `${this.#id}.p${part}.${attempt}`
  }

  begin (part: number, attempt: string, cancelled: boolean): PartitionBeginResult {
    const p = this.#parts[part]
    if (p === undefined) return { outcome: 'gone' }
    if (cancelled) return { outcome: 'cancelled' }
    if (p.state === 'committed') return { outcome: 'committed' }
    if (p.attempt !== undefined) this.#pages.drop(this.#name(part, p.attempt))
    const unsettled = p.state === 'running'
    Object.assign(p, { attempt, state: 'running', processed: 0, matched: 0, skipped: 0 })
    p.runs++
    return { outcome: 'began', runs: p.runs, unsettled }
  }

  release (part: number, attempt: string): void {
    const p = this.#current(part, attempt)
    if (p !== undefined) p.state = 'queued'
  }

  #current (part: number, attempt: string): StoredPart | undefined {
    const p = this.#parts[part]
    return p?.attempt === attempt && p.state === 'running' ? p : undefined
  }

  async append (part: number, attempt: string, pages: string[]): Promise<boolean> {
    if (this.#current(part, attempt) === undefined) return false
    await this.#pages.append(this.#name(part, attempt), pages)
    return true
  }

  update (part: number, attempt: string, counts: PartitionCounts): boolean {
    const p = this.#current(part, attempt)
    if (p === undefined) return false
    Object.assign(p, { processed: counts.processed, matched: counts.matched, skipped: counts.skipped })
    return true
  }

  /** Pages name of the attempt `commit` would make visible. */
  pagesOf (part: number, attempt: string): string {
    return this.#name(part, attempt)
  }

  commit (part: number, attempt: string, commit: PartitionCommit): boolean {
    const p = this.#current(part, attempt)
    if (p === undefined) return false
    Object.assign(p, { state: 'committed', processed: commit.processed, matched: commit.matched, skipped: commit.skipped, commit: structuredClone(commit) })
    this.#pending.add(part)
    if (this.layout.mode === 'unordered') {
      const admitted = Math.max(0, Math.min(commit.count, this.layout.cap - this.#stored))
      this.#stored += admitted
      this.#pendingAdmitted += admitted
      if (admitted > 0) this.#log.push({ part, admitted })
    }
    this.#advance()
    return true
  }

  /** The commit of `part` is durable (or there is nothing to wait for): readers see it. */
  settle (part: number): void {
    if (!this.#pending.delete(part)) return
    if (this.layout.mode === 'unordered') this.#pendingAdmitted -= this.#log.findLast((e) => e.part === part)?.admitted ?? 0
    this.#advance()
  }

  /** The aggregate's final rows, stored under `name`. */
  setRows (name: string): void {
    this.#rows = name
  }

  /** `copy` false: the states share their commits with the store, for a caller that only reads them. */
  states (copy = true): PartitionState[] {
    return this.#parts.map(({ attempt: _attempt, lost: _lost, ...state }) => {
      if (!this.#pending.has(state.index)) return copy ? copyJson(state) : state
      const { commit: _commit, ...running } = state
      return { ...running, state: 'running' }
    })
  }

  entry (seq: number, succeeded: boolean): ResultEntry | undefined {
    if (this.layout.mode === 'aggregate') return seq === 0 && succeeded ? { seq, part: -1, limit: this.layout.cap } : undefined
    if (this.layout.mode === 'unordered') {
      const e = this.#log[seq]
      return e === undefined || this.#pending.has(e.part) ? undefined : { seq, part: e.part, limit: e.admitted }
    }
    let low = 0
    let high = this.#ordered.length
    while (low < high) {
      const middle = (low + high) >>> 1
      if (this.#ordered[middle].part < seq) low = middle + 1
      else high = middle
    }
    const e = this.#ordered[low]
    return e === undefined ? undefined : { seq: e.part, part: e.part, limit: e.admitted }
  }

  async pages (part: number, from: number, count: number): Promise<string[]> {
    if (part === -1) return this.#rows === undefined ? [] : await this.#pages.read(this.#rows, from, count)
    const p = this.#parts[part]
    return p?.state === 'committed' && p.attempt !== undefined && !this.#pending.has(part) ? await this.#pages.read(this.#name(part, p.attempt), from, count) : []
  }

  /** Pages names of every attempt and of the rows. */
  names (): string[] {
    const names = this.#parts.flatMap((p) => p.attempt === undefined ? [] : [this.#name(p.index, p.attempt)])
    return this.#rows === undefined ? names : [...names, this.#rows]
  }

  /** Pages names the partitions show (committed attempts and the rows), each with whether it holds results. */
  visibleNames (): Array<[string, boolean]> {
    const names = this.#parts.flatMap((p): Array<[string, boolean]> => p.state === 'committed' && p.attempt !== undefined ? [[this.#name(p.index, p.attempt), (p.commit?.count ?? 0) > 0]] : [])
    return this.#rows === undefined ? names : [...names, [this.#rows, true]]
  }

  /**
   * After a restart nothing runs: running partitions are queued again and their pages dropped;
   * `lost` (the process died, it did not hand them back) counts them as lost. Returns the most
   * times one partition was lost.
   */
  requeue (lost: boolean): number {
    let most = 0
    for (const p of this.#parts) {
      if (p.state !== 'running') continue
      if (p.attempt !== undefined) this.#pages.drop(this.#name(p.index, p.attempt))
      Object.assign(p, { state: 'queued', processed: 0, matched: 0, skipped: 0 })
      delete p.attempt
      if (lost) p.lost = (p.lost ?? 0) + 1
      most = Math.max(most, p.lost ?? 0)
    }
    return most
  }

  /** What a state directory keeps of partition `part` (the log entry its commit added, if any). */
  storedPart (part: number): { part: StoredPart, log?: LogEntry } {
    const p = structuredClone(this.#parts[part])
    const last = this.#log.at(-1)
    return p.state === 'committed' && last?.part === part ? { part: p, log: last } : { part: p }
  }

  /** Restores partition `part` from a state directory's line. */
  restorePart (stored: StoredPart, log?: LogEntry): void {
    this.#parts[stored.index] = stored
    this.#advance()
    if (log === undefined) return
    this.#log.push(log)
    this.#stored += log.admitted
  }

  toJSON (): StoredPartitions {
    return { layout: this.layout, parts: this.#parts, log: this.#log, cursorKey: this.cursorKey, ...(this.#rows === undefined ? {} : { rows: this.#rows }) }
  }
}
