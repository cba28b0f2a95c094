import type { ResultsPageDocument } from '../../schemas/scan-status.js'
import type { ScanStore } from '../store/scan-store.js'
import type { ScanRecord } from '../store/scan-record.js'
import { decodeResultCursor, encodeResultCursor, type ResultPosition } from '../store/result-cursor.js'
import { InvalidCursorError, ResultsRestartedError } from '../errors.js'

export interface ResultsPage {
  /** The page as the API sends it. */
  page: ResultsPageDocument
  /** The scan is queued or running and the page reached the last stored result: more can come later. */
  more: boolean
}

const PAGES_PER_READ = 16

/**
 * A page of at most `limit` results and `maxBytes` bytes (at least one result) of a scan that runs as
 * one job, from `cursor` on: its pages belong to its current attempt, and a cursor of an attempt
 * before it is good only at its start.
 */
export async function readAttemptResults (store: ScanStore, record: ScanRecord, scan: { finished: boolean, partial: boolean },
  limit: number, cursor: string | undefined, maxBytes: number): Promise<ResultsPage> {
  const { id } = record
  const { finished, partial } = scan
  const position: ResultPosition = cursor === undefined ? { attempt: record.attempt ?? '', page: 0, offset: 0 } : decodeResultCursor(cursor)
  if (position.attempt !== (record.attempt ?? '')) {
    if (position.page !== 0 || position.offset !== 0) throw new ResultsRestartedError(id)
    position.attempt = record.attempt ?? ''
  } else if (cursor !== undefined && (position.page > 0 || position.offset > 0)) {
    // A cursor this service made points at most at the page after the last one that existed then.
    const page = position.offset > 0 ? position.page : position.page - 1
    if ((await store.readPages(id, position.attempt, page, 1)).length === 0) throw new InvalidCursorError('past the end of the results')
  }
  const out: unknown[] = []
    let taken = 0
  let bytes = 0
  let full = false
  let exhausted = record.attempt === null
  while (taken < limit && !exhausted) {
    const pages = await store.readPages(id, position.attempt, position.page, PAGES_PER_READ)
    for (const text of pages) {
      const items = JSON.parse(text) as unknown[]
      if (position.offset > items.length) throw new InvalidCursorError('offset past the end of its page')
      const wanted = limit - taken
      const available = items.length - position.offset
      const size = Buffer.byteLength(text)
      if (available <= wanted && bytes + size <= maxBytes) {
        for (let i = position.offset; i < items.length; i++) out.push(items[i])
        taken += available
        bytes += size
        position.page++
        position.offset = 0
      } else {
        const end = position.offset + Math.min(wanted, available)
        while (position.offset < end) {
          const itemBytes = Buffer.byteLength(JSON.stringify(items[position.offset])) + 1
          if (taken > 0 && bytes + itemBytes > maxBytes) {
            full = true
            break
          }
          out.push(items[position.offset])
          taken++
          bytes += itemBytes
          position.offset++
        }
        if (position.offset === items.length) {
          position.page++
          position.offset = 0
        }
      }
      if (taken >= limit || full) break
    }
    if (pages.length < PAGES_PER_READ && taken < limit && !full) exhausted = true
    if (full) break
  }
  if (finished && !exhausted && position.offset === 0) {
    exhausted = (await store.readPages(id, position.attempt, position.page, 1)).length === 0
  }
  const complete = finished && exhausted
  return {
    page: complete ? { items: out, complete, partial } : { items: out, next_cursor: encodeResultCursor(position), complete, partial },
    more: !finished && exhausted
  }
}
