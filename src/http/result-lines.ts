import type { ScanStatusName } from '../../schemas/scan-status.js'
import type { ScanStore } from '../store/scan-store.js'
import { ResultsGoneError } from '../errors.js'
import { jsonArrayLines } from '../store/json-array-items.js'
import { FIRST_POSITION, readPartitionedResults } from './partitioned-results.js'

export interface ResultLines {
  status: ScanStatusName
  /** The scan failed or was cancelled: the results are those stored before it stopped. */
  partial: boolean
  /** How many results the lines hold. */
  count: number
  /** NDJSON text, one or more whole lines at a time, read from the store as it is consumed. */
  lines: AsyncIterable<string>
}

/** Result pages read from the store at a time for NDJSON: what one download holds in memory beside the socket's buffer. */
const NDJSON_PAGES_PER_READ = 4
/** Results, and bytes of them, read at a time for NDJSON of a partitioned scan. */
const NDJSON_ITEMS_PER_READ = 2000
const NDJSON_BYTES_PER_READ = 1024 * 1024

/** The results of a partitioned scan as NDJSON. */
export async function * partitionedLines (store: ScanStore, id: string): AsyncGenerator<string> {
  let position = FIRST_POSITION
  for (;;) {
    const { page, next } = await readPartitionedResults(store, id, { finished: true, partial: false, cursorKey: id }, { limit: NDJSON_ITEMS_PER_READ, maxBytes: NDJSON_BYTES_PER_READ }, position)
    if (page.items.length > 0) yield ndjsonLines(page.items)
    if (page.complete) return
    position = next
  }
}

/** The results of the attempt of a scan that ran as one job as NDJSON. */
export async function * attemptLines (store: ScanStore, id: string, attempt: string | null): AsyncGenerator<string> {
  for (let page = 0; attempt !== null;) {
    const pages = await store.readPages(id, attempt, page, NDJSON_PAGES_PER_READ)
    for (const text of pages) {
      const { lines, items } = jsonArrayLines(text)
      if (items > 0) yield lines
    }
    if (pages.length < NDJSON_PAGES_PER_READ) break
    page += pages.length
  }
}

function ndjsonLines (items: unknown[]): string {
  let lines = ''
  for (const item of items) lines += JSON.stringify(item) + '\n'
  return lines
}

/** Passes `lines` on, and throws at their end when they held fewer than `count` results (they went away meanwhile). */
export async function * checkedCount (id: string, lines: AsyncIterable<string>, count: number): AsyncGenerator<string> {
  let sent = 0
  for await (const text of lines) {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) sent++
    yield text
  }
  if (sent < count) throw new ResultsGoneError(id, sent, count)
}
