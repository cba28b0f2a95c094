import { randomBytes } from 'node:crypto'
import type { PartitionBeginResult, PartitionCommit, PartitionCounts, PartitionLayout, PartitionState, ResultEntry } from './partition-record.js'

interface Part extends PartitionState {
  attempt?: string
  /** Pages of the current attempt; the visible pages once it commits. */
  pages: string[]
}

/** The partitions of one scan in the embedded store: the same rules as the Redis scripts. */
export class MemoryPartitions {
  readonly layout: PartitionLayout
  /** Signs the scan's results cursors. */
  readonly cursorKey = randomBytes(16).toString('base64url')
  readonly #parts: Part[]
  /** Unordered: the commit log; ordered: the read index, by partition. Entries that admit results only. */
  readonly #log: Array<{ part: number, admitted: number }> = []
  #stored = 0
  /** Ordered: partitions committed without a gap from 0 on, and their results. */
  #front = 0
  #frontBase = 0
  rows: string[] = []

  constructor (layout: PartitionLayout) {
    this.layout = layout
    this.#parts = Array.from({ length: layout.partitions }, (_, index) => ({ index, state: 'queued', runs: 0, processed: 0, matched: 0, skipped: 0, pages: [] }))
  }

  get stored (): number { return this.#stored }

  begin (part: number, attempt: string, cancelled: boolean): PartitionBeginResult {
    const p = this.#parts[part]
    if (p === undefined) return { outcome: 'gone' }
    if (cancelled) return { outcome: 'cancelled' }
    if (p.state === 'committed') return { outcome: 'committed' }
    const unsettled = p.state === 'running'
    Object.assign(p, { attempt, state: 'running', processed: 0, matched: 0, skipped: 0, pages: [] })
    p.runs++
    return { outcome: 'began', runs: p.runs, unsettled }
  }

  release (part: number, attempt: string): void {
    const p = this.#current(part, attempt)
    if (p !== undefined) p.state = 'queued'
  }

  #current (part: number, attempt: string): Part | undefined {
    const p = this.#parts[part]
    return p?.attempt === attempt && p.state === 'running' ? p : undefined
  }

  append (part: number, attempt: string, pages: string[]): boolean {
    const p = this.#current(part, attempt)
    if (p === undefined) return false
    p.pages.push(...pages)
    return true
  }

  update (part: number, attempt: string, counts: PartitionCounts): boolean {
    const p = this.#current(part, attempt)
    if (p === undefined) return false
    Object.assign(p, { processed: counts.processed, matched: counts.matched, skipped: counts.skipped })
    return true
  }

  commit (part: number, attempt: string, commit: PartitionCommit): boolean {
    const p = this.#current(part, attempt)
    if (p === undefined) return false
    Object.assign(p, { state: 'committed', processed: commit.processed, matched: commit.matched, skipped: commit.skipped, commit: structuredClone(commit) })
    if (this.layout.mode === 'unordered') {
      const admitted = Math.max(0, Math.min(commit.count, this.layout.cap - this.#stored))
      this.#stored += admitted
      if (admitted > 0) this.#log.push({ part, admitted })
    } else if (this.layout.mode === 'ordered') {
      for (let front = this.#parts[this.#front]; front?.state === 'committed'; front = this.#parts[++this.#front]) {
        const count = front.commit!.count
        const admitted = Math.max(0, Math.min(count, this.layout.cap - this.#frontBase))
        if (admitted > 0) this.#log.push({ part: this.#front, admitted })
        this.#frontBase += count
      }
    }
    return true
  }

  states (): PartitionState[] {
    return this.#parts.map(({ attempt: _attempt, pages: _pages, ...state }) => structuredClone(state))
  }

  entry (seq: number, succeeded: boolean): ResultEntry | undefined {
    if (this.layout.mode === 'aggregate') return seq === 0 && succeeded ? { seq, part: -1, limit: this.layout.cap } : undefined
    if (this.layout.mode === 'unordered') {
      const e = this.#log[seq]
      return e === undefined ? undefined : { seq, part: e.part, limit: e.admitted }
    }
    let low = 0
    let high = this.#log.length
    while (low < high) {
      const middle = (low + high) >>> 1
      if (this.#log[middle].part < seq) low = middle + 1
      else high = middle
    }
    const e = this.#log[low]
    return e === undefined ? undefined : { seq: e.part, part: e.part, limit: e.admitted }
  }

  pages (part: number, from: number, count: number): string[] {
    const pages = part === -1 ? this.rows : this.#parts[part]?.state === 'committed' ? this.#parts[part].pages : []
    return pages.slice(from, from + count)
  }
}
