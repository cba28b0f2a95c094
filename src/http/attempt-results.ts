import type { ResultsPageDocument } from '../../schemas/scan-status.js'
import type { ScanHead, ScanStore } from '../store/scan-store.js'
import { decodeResultCursor, encodeResultCursor, type ResultPosition } from '../store/result-cursor.js'
import { InvalidCursorError, ResultsRestartedError } from '../errors.js'
import { PageCollector } from './page-collector.js'

export interface ResultsPage {
  /** The page as the API sends it. */
  page: ResultsPageDocument
  /** The scan is queued or running and the page reached the last stored result: more can come later. */
  more: boolean
}

/** Stored pages read at a time: one at first, twice as many at each read after it, up to this. */
const PAGES_PER_READ = 16

/**
 * A page of at most `limit` results and `maxBytes` bytes (at least one result) of a scan that runs as
 * one job, from `cursor` on: its pages belong to its current attempt, and a cursor of an attempt
 * before it is good only at its start.
 */
export async function readAttemptResults (store: ScanStore, record: Pick<ScanHead, 'id' | 'attempt'>, scan: { finished: boolean, partial: boolean },
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
  const page = new PageCollector(limit, maxBytes)
  let exhausted = record.attempt === null
  for (let count = 1; page.room > 0 && !exhausted; count = Math.min(2 * count, PAGES_PER_READ)) {
    const pages = await store.readPages(id, position.attempt, position.page, count)
    for (const text of pages) {
      const items = JSON.parse(text) as unknown[]
      if (position.offset > items.length) throw new InvalidCursorError('offset past the end of its page')
      position.offset += page.take(text, items, position.offset, items.length - position.offset)
      if (position.offset === items.length) {
        position.page++
        position.offset = 0
      }
      if (page.room === 0) break
    }
    if (pages.length < count && page.room > 0) exhausted = true
  }
  if (finished && !exhausted && position.offset === 0) {
    exhausted = (await store.readPages(id, position.attempt, position.page, 1)).length === 0
  }
  const complete = finished && exhausted
  return {
    page: complete ? { items: page.items, complete, partial } : { items: page.items, next_cursor: encodeResultCursor(position), complete, partial },
    more: !finished && exhausted
  }
}
