import { randomUUID } from 'node:crypto'
import type { PartitionBeginResult, PartitionCommit, PartitionCounts, PartitionLayout, PartitionState, ResultEntry } from './partition-record.js'
import type { ScanOutcome } from './scan-record.js'
import { MemoryPartitions } from './memory-partitions.js'
import { partitionUnit } from './storage-charge.js'
import type { MemoryScanEntries } from './memory-scan-entries.js'

/** The partitions of the embedded store's scans: the partition half of MemoryScanStore. */
export class MemoryPartitionedScans {
  readonly #entries: MemoryScanEntries

  constructor (entries: MemoryScanEntries) {
    this.#entries = entries
  }

  async plan (id: string, attempt: string, layout: PartitionLayout): Promise<boolean> {
    const entry = this.#entries.current(id, attempt)
    if (entry === undefined) return false
    entry.partitions = new MemoryPartitions(id, this.#entries.pages, layout)
    entry.record.progress = { ...entry.record.progress, total: layout.total }
    const partitions = entry.partitions.toJSON()
    await this.#entries.write(id, { t: 'record', record: entry.record, cancelRequested: entry.cancelRequested, crashes: entry.crashes }, { t: 'partitions', partitions })
    return true
  }

  async begin (id: string, part: number, attempt: string): Promise<PartitionBeginResult> {
    const entry = this.#entries.partitioned(id)
    if (entry === undefined) return { outcome: 'gone' }
    const began = entry.partitions.begin(part, attempt, entry.cancelRequested)
    if (began.outcome === 'began') await this.#entries.write(id, { t: 'part', ...entry.partitions.storedPart(part) })
    return began
  }

  release (id: string, part: number, attempt: string): void {
    this.#entries.partitioned(id)?.partitions.release(part, attempt)
  }

  async append (id: string, part: number, attempt: string, pages: string[]): Promise<boolean> {
    const entry = this.#entries.partitioned(id)
    return entry !== undefined && !entry.cancelRequested && await entry.partitions.append(part, attempt, pages)
  }

  update (id: string, part: number, attempt: string, counts: PartitionCounts): boolean {
    return this.#entries.partitioned(id)?.partitions.update(part, attempt, counts) ?? false
  }

  async commit (id: string, part: number, attempt: string, commit: PartitionCommit): Promise<boolean> {
    const entry = this.#entries.partitioned(id)
    if (entry === undefined || entry.cancelRequested || !entry.partitions.commit(part, attempt, commit)) return false
    const charge = this.#entries.charges.of(id, partitionUnit(id, part)).find((held) => held.attempt === attempt)
    await this.#entries.journal?.changed(id, { t: 'part', ...entry.partitions.storedPart(part), ...(charge === undefined ? {} : { charge }) }, [entry.partitions.pagesOf(part, attempt)])
    entry.partitions.settle(part)
    return true
  }

  states (id: string): PartitionState[] {
    return this.#entries.scans.get(id)?.partitions?.states() ?? []
  }

  async finish (id: string, outcome: ScanOutcome, finishedAt: string, rows: string[]): Promise<boolean> {
    const { pages } = this.#entries
    const name = rows.length > 0 ? `${id}.rows.${randomUUID()}` : undefined
    if (name !== undefined) await pages.append(name, rows)
    const entry = this.#entries.partitioned(id)
    if (entry === undefined) {
      if (name !== undefined) pages.drop(name)
      return false
    }
    this.#entries.hold(entry)
    Object.assign(entry.record, structuredClone(outcome), { finished_at: finishedAt })
    entry.cancelRequested = true
    if (name !== undefined) entry.partitions.setRows(name)
    this.#entries.expire(id, entry, finishedAt)
    await this.#entries.ended(entry, name === undefined ? [] : [name])
    return true
  }

  resultEntry (id: string, seq: number): ResultEntry | undefined {
    const entry = this.#entries.scans.get(id)
    return entry?.partitions?.entry(seq, entry.record.status === 'succeeded')
  }

  async readEntryPages (id: string, part: number, from: number, count: number): Promise<string[]> {
    return await this.#entries.scans.get(id)?.partitions?.pages(part, from, count) ?? []
  }
}
