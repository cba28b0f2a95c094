import type { ScanChange, ScanJournal } from './scan-journal.js'
import type { ScanRecord } from './scan-record.js'
import type { ResultPages } from './result-pages.js'
import { partitionedView } from '../partitions/partition-progress.js'
import { MemoryStorageCharges } from './memory-storage-charges.js'
import { storedScan, type MemoryScanEntry, type PartitionedEntry } from './memory-scan-entry.js'
import { UnrefTimers } from './unref-timers.js'
import { copyJson } from './copy-json.js'

/**
 * The scans of the embedded store and what keeps them: the journal every change is written to,
 * their result pages, their storage charges and the timers that expire them.
 */
export class MemoryScanEntries {
  readonly scans = new Map<string, MemoryScanEntry>()
  /** Queued scans and their tenants. */
  readonly queued = new Map<string, string | undefined>()
  readonly timers = new UnrefTimers()
  readonly retentionMs: number
  readonly journal: ScanJournal | undefined
  readonly pages: ResultPages
  readonly charges = new MemoryStorageCharges((id) => {
    const expiresAt = this.scans.get(id)?.record.expires_at
    return expiresAt == null ? null : Date.parse(expiresAt)
  })

  constructor (retentionMs: number, journal: ScanJournal | undefined, pages: ResultPages) {
    this.retentionMs = retentionMs
    this.journal = journal
    this.pages = pages
  }

  /** What readers see of a scan: a copy, with its partitions summed while it runs. */
  view (entry: MemoryScanEntry): ScanRecord {
    const record = copyJson(entry.shown ?? entry.record)
    if (entry.cancelRequested) record.cancelRequested = true
    const partitions = entry.partitions
    if (partitions === undefined) return record
    const view = partitionedView(partitions.layout, partitions.states(false), record.started_at, partitions.stored, record.status === 'running')
    return record.status === 'running' ? { ...record, ...view } : { ...record, partitions: view.partitions }
  }

  /** The scan while `attempt` runs it. */
  current (id: string, attempt: string): MemoryScanEntry | undefined {
    const entry = this.scans.get(id)
    if (entry === undefined || entry.record.status !== 'running' || entry.record.attempt !== attempt) return undefined
    return entry
  }

  /** The scan while it runs partitioned. */
  partitioned (id: string): PartitionedEntry | undefined {
    const entry = this.scans.get(id)
    return entry?.partitions !== undefined && entry.record.status === 'running' ? entry as PartitionedEntry : undefined
  }

  async write (id: string, ...changes: ScanChange[]): Promise<void> {
    if (this.journal === undefined) return
    await Promise.all(changes.map(async (change) => await this.journal!.changed(id, change)))
  }

  /** Readers keep seeing the record as it is until the change that follows is durable (`ended`). */
  hold (entry: MemoryScanEntry): void {
    if (this.journal !== undefined && entry.shown === undefined) entry.shown = structuredClone(entry.record)
  }

  async ended (entry: MemoryScanEntry, seal: string[] = []): Promise<void> {
    if (this.journal === undefined) return
    const ended = this.journal.ended(storedScan(entry, this.charges.of(entry.record.id)), seal)
    delete entry.request
    try {
      await ended
    } finally {
      delete entry.shown
    }
  }

  expire (id: string, entry: MemoryScanEntry, finishedAt: string): void {
    entry.record.expires_at = new Date(Date.parse(finishedAt) + this.retentionMs).toISOString()
    entry.expiry = this.timers.later(this.retentionMs, () => { if (this.scans.get(id) === entry) void this.drop(id).catch(() => {}) })
  }

  async drop (id: string): Promise<void> {
    const entry = this.scans.get(id)
    if (entry === undefined) return
    if (entry.expiry !== undefined) this.timers.clear(entry.expiry)
    this.scans.delete(id)
    this.queued.delete(id)
    this.charges.drop(id)
    await this.journal?.removed(id)
    for (const name of entry.partitions?.names() ?? []) this.pages.drop(name)
    if (entry.record.attempt !== null) this.pages.drop(`${id}.${entry.record.attempt}`)
  }
}
