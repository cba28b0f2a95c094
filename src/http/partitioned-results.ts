import { createHmac, timingSafeEqual } from 'node:crypto'
import type { ScanStore } from '../store/scan-store.js'
import { InvalidCursorError } from '../errors.js'
import { PageCollector } from './page-collector.js'
import type { ResultsPage } from './attempt-results.js'

/** Where a reader is in a partitioned scan: stretch `seq` of its results, page and item in it, items read of the stretch. */
export interface PartitionedPosition {
  seq: number
  page: number
  offset: number
  consumed: number
}

export const FIRST_POSITION: Readonly<PartitionedPosition> = Object.freeze({ seq: 0, page: 0, offset: 0, consumed: 0 })

/** Stored pages read at a time: one at first, twice as many at each read after it, up to this. */
const PAGES_PER_READ = 16

/** The signature of a position under the scan's cursor key: a cursor names only positions this service reached. */
function sign (p: PartitionedPosition, key: string): Buffer {
  return createHmac('sha256', key).update(`${p.seq},${p.page},${p.offset},${p.consumed}`).digest().subarray(0, 16)
}

export function encodePartitionedCursor (p: PartitionedPosition, key: string): string {
  return Buffer.from(JSON.stringify(['p', p.seq, p.page, p.offset, p.consumed, sign(p, key).toString('base64url')])).toString('base64url')
}

/**
 * The position of a partitioned-scan cursor, or undefined when `cursor` is not one. A position
 * not signed with the scan's `key` (made up, or of another scan) is a PARASCAN_INVALID_CURSOR: a
 * made-up item count could read past what max_results admits.
 */
export function decodePartitionedCursor (cursor: string, key: string): PartitionedPosition | undefined {
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    return undefined
  }
  if (!Array.isArray(value) || value[0] !== 'p') return undefined
  const numbers = value.slice(1, 5) as unknown[]
  const signature = Buffer.from(typeof value[5] === 'string' ? value[5] : '', 'base64url')
  if (value.length !== 6 || !numbers.every((n) => Number.isSafeInteger(n) && (n as number) >= 0)) throw new InvalidCursorError('not a cursor returned by this service')
  const [seq, page, offset, consumed] = numbers as number[]
  const position = { seq, page, offset, consumed }
  const expected = sign(position, key)
  if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) throw new InvalidCursorError('not a cursor returned by this service for this scan')
  return position
}

/**
 * A page of a partitioned scan's results, read through its stretches of visible results (the
 * commit log, or partitions in record order when ordered), up to `page.limit` items and
 * `page.maxBytes` bytes. A reader never waits on a partition that has not committed unless the
 * scan is ordered and that partition comes next.
 */
export async function readPartitionedResults (store: ScanStore, id: string, scan: { finished: boolean, partial: boolean, cursorKey: string },
  limits: { limit: number, maxBytes: number }, start: PartitionedPosition): Promise<ResultsPage & { next: PartitionedPosition }> {
  const position = { ...start }
  const page = new PageCollector(limits.limit, limits.maxBytes)
  let exhausted = false
  while (page.room > 0) {
    const entry = await store.resultEntry(id, position.seq)
    if (entry === undefined) {
      exhausted = true
      break
    }
    if (entry.seq !== position.seq) Object.assign(position, { seq: entry.seq, page: 0, offset: 0, consumed: 0 })
    let stretchDone = position.consumed >= entry.limit
    for (let count = 1; !stretchDone && page.room > 0; count = Math.min(2 * count, PAGES_PER_READ)) {
      const pages = await store.readEntryPages(id, entry.part, position.page, count)
      for (const text of pages) {
        const items = JSON.parse(text) as unknown[]
        if (position.offset > items.length) throw new InvalidCursorError('offset past the end of its page')
        const n = page.take(text, items, position.offset, entry.limit - position.consumed)
        position.consumed += n
        position.offset += n
        if (position.offset === items.length) {
          position.page++
          position.offset = 0
        }
        if (position.consumed >= entry.limit) {
          stretchDone = true
          break
        }
        if (page.room === 0) break
      }
      if (pages.length < count && !stretchDone && page.room > 0) stretchDone = true
    }
    if (stretchDone) Object.assign(position, { seq: position.seq + 1, page: 0, offset: 0, consumed: 0 })
  }
  const complete = scan.finished && exhausted
  const { partial } = scan
  return {
    page: complete ? { items: page.items, complete, partial } : { items: page.items, next_cursor: encodePartitionedCursor(position, scan.cursorKey), complete, partial },
    more: !scan.finished && exhausted,
    next: position
  }
}
