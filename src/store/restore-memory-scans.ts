import { emptyProgress, FINISHED_STATUSES } from './scan-record.js'
import { MemoryPartitions } from './memory-partitions.js'
import type { MemoryIdempotencyKeys } from './memory-idempotency-keys.js'
import type { MemoryScanEntries } from './memory-scan-entries.js'
import type { MemoryScanEntry } from './memory-scan-entry.js'
import type { StoredScan } from './scan-journal.js'
import type { StoredCharge } from './storage-charge.js'

/** What a store taken back from a state directory has to run again. */
export interface Recovery {
  /** Scans to queue again (they were queued or running), oldest first. */
  resume: string[]
  /** Partitioned scans a partition of which was lost more often than allowed: they are failed instead. */
  lost: string[]
}

/**
 * Takes back the scans a state directory kept. Nothing runs after a restart: a running scan is
 * queued again from its start, a running partition of a partitioned scan is queued again (its
 * committed ones stay). `crashed`: the last process died without closing the store, so what ran
 * counts as crashed (`PARASCAN_MAX_CRASHED_ATTEMPTS`) or, for a partition, as lost; a scan with a
 * partition lost more than `maxLostRuns` times is given up on.
 */
export async function restoreMemoryScans (entries: MemoryScanEntries, keys: MemoryIdempotencyKeys, scans: StoredScan[], crashed: boolean, maxLostRuns: number): Promise<Recovery> {
  const recovery: Recovery = { resume: [], lost: [] }
  const now = Date.now()
  for (const stored of scans.sort((a, b) => a.record.id < b.record.id ? -1 : 1)) {
    const { record } = stored
    const entry: MemoryScanEntry = { record, cancelRequested: stored.cancelRequested, crashes: stored.crashes, ...(stored.key === undefined ? {} : { key: stored.key }) }
    if (stored.partitions !== undefined) entry.partitions = new MemoryPartitions(record.id, entries.pages, stored.partitions.layout, stored.partitions)
    entries.scans.set(record.id, entry)
    entries.charges.restore(keptCharges(stored))
    if (FINISHED_STATUSES.has(record.status)) {
      const left = Date.parse(record.expires_at ?? '') - now
      if (!(left > 0)) {
        await entries.drop(record.id)
        continue
      }
      entry.expiry = entries.timers.later(left, () => { if (entries.scans.get(record.id) === entry) void entries.drop(record.id).catch(() => {}) })
    } else if (record.status === 'running' && entry.partitions !== undefined) {
      const lost = entry.partitions.requeue(crashed)
      await entries.write(record.id, { t: 'partitions', partitions: entry.partitions.toJSON() })
      if (lost > maxLostRuns) recovery.lost.push(record.id)
      else recovery.resume.push(record.id)
    } else {
      if (record.status === 'running') {
        if (crashed) entry.crashes++
        if (record.attempt !== null) entries.pages.drop(`${record.id}.${record.attempt}`)
        Object.assign(record, { status: 'queued', attempt: null, started_at: null, progress: emptyProgress(record.progress.total), result: { count: 0, truncated: false } })
        await entries.write(record.id, { t: 'record', record, cancelRequested: entry.cancelRequested, crashes: entry.crashes })
      }
      entries.queued.set(record.id, record.tenant)
      recovery.resume.push(record.id)
    }
    if (stored.key !== undefined && stored.key.claimedAt + entries.retentionMs > now && !keys.has(stored.key.key)) {
      keys.claim(stored.key.key, { value: stored.key.value, claimedAt: stored.key.claimedAt })
    }
  }
  return recovery
}

/** Pages names the scans show, each with whether it holds results: what a state directory keeps. */
export function visiblePageNames (entries: MemoryScanEntries): Map<string, boolean> {
  const names = new Map<string, boolean>()
  for (const [id, { record, partitions }] of entries.scans) {
    if (partitions !== undefined) for (const [name, required] of partitions.visibleNames()) names.set(name, required)
    else if (record.attempt !== null) names.set(`${id}.${record.attempt}`, record.result.count > 0)
  }
  return names
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
