import type { ScanStore } from '../store/scan-store.js'
import { InvalidCursorError } from '../errors.js'
import type { ResultsPage } from './scan-service.js'

/** Where a reader is in a partitioned scan: stretch `seq` of its results, page and item in it, items read of the stretch. */
export interface PartitionedPosition {
  seq: number
  page: number
  offset: number
  consumed: number
}

const PAGES_PER_READ = 16

export function encodePartitionedCursor (p: PartitionedPosition): string {
  return Buffer.from(JSON.stringify(['p', p.seq, p.page, p.offset, p.consumed])).toString('base64url')
}

/** The position of a partitioned-scan cursor, or undefined when `cursor` is not one. */
export function decodePartitionedCursor (cursor: string): PartitionedPosition | undefined {
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    return undefined
  }
  if (!Array.isArray(value) || value.length !== 5 || value[0] !== 'p') return undefined
  const numbers = value.slice(1) as unknown[]
  if (!numbers.every((n) => Number.isSafeInteger(n) && (n as number) >= 0)) throw new InvalidCursorError('not a cursor returned by this service')
  const [seq, page, offset, consumed] = numbers as number[]
  return { seq, page, offset, consumed }
}

/**
 * A page of at most `limit` results and `maxBytes` bytes (at least one result) of a partitioned scan, read through its stretches of visible results (the
 * commit log, or partitions in record order when ordered). A reader never waits on a partition
 * that has not committed unless the scan is ordered and that partition comes next.
 */
export async function readPartitionedResults (store: ScanStore, id: string, scan: { finished: boolean, partial: boolean }, limit: number,
  start: PartitionedPosition, maxBytes = Infinity): Promise<ResultsPage> {
  const position = { ...start }
  // A cursor this service made points at most at the stretch after the last one that existed then.
  if (scan.finished && position.seq > 0 && await store.resultEntry(id, position.seq - 1) === undefined) throw new InvalidCursorError('past the end of the results')
  const out: unknown[] = []
  let taken = 0
  let bytes = 0
  let full = false
  let exhausted = false
  const nextStretch = (): void => {
    position.seq++
    position.page = 0
    position.offset = 0
    position.consumed = 0
  }
  while (taken < limit) {
    const entry = await store.resultEntry(id, position.seq)
    if (entry === undefined) {
      exhausted = true
      break
    }
    let stretchDone = position.consumed >= entry.limit
    while (!stretchDone && taken < limit) {
      const pages = await store.readEntryPages(id, entry.part, position.page, PAGES_PER_READ)
      for (const text of pages) {
        const items = JSON.parse(text) as unknown[]
        if (position.offset > items.length) throw new InvalidCursorError('offset past the end of its page')
        let n = Math.min(limit - taken, entry.limit - position.consumed, items.length - position.offset)
        const size = Buffer.byteLength(text)
        if (bytes + size <= maxBytes) {
          for (let i = position.offset; i < position.offset + n; i++) out.push(items[i])
          bytes += size
        } else {
          for (let i = 0; i < n; i++) {
            const item = items[position.offset + i]
            const itemBytes = Buffer.byteLength(JSON.stringify(item)) + 1
            if (taken + i > 0 && bytes + itemBytes > maxBytes) {
              full = true
              n = i
              break
            }
            out.push(item)
            bytes += itemBytes
          }
        }
        taken += n
        position.consumed += n
        if (position.offset + n === items.length) {
          position.page++
          position.offset = 0
        } else {
          position.offset += n
        }
        if (position.consumed >= entry.limit) {
          stretchDone = true
          break
        }
        if (taken >= limit || full) break
      }
      if (full) break
      if (pages.length < PAGES_PER_READ && !stretchDone && taken < limit) stretchDone = true
    }
    if (full) break
    if (stretchDone) nextStretch()
  }
  const complete = scan.finished && exhausted
  const { partial } = scan
  return {
    page: complete ? { items: out, complete, partial } : { items: out, next_cursor: encodePartitionedCursor(position), complete, partial },
    more: !scan.finished && exhausted
  }
}
