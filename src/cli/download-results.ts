import { setTimeout as sleep } from 'node:timers/promises'
import { problemCodeOf, type ApiClient } from './api-client.js'
import type { NdjsonOutput } from './ndjson-output.js'

export interface DownloadResultsOptions {
  /** Items asked for per page. Default: 10000 (the service's largest page). */
  pageSize?: number
  /** Wait before asking again for a page of a scan that is still running and had nothing new (ms). Default: 500. */
  intervalMs?: number
}

/**
 * Follows the result pages of a scan from the first to the one marked complete, writing every item.
 * A running scan is followed until it finishes. Returns the number of items written.
 */
export async function downloadResults (client: ApiClient, id: string, output: NdjsonOutput, options: DownloadResultsOptions = {}): Promise<number> {
  const limit = options.pageSize ?? 10_000
  const intervalMs = options.intervalMs ?? 500
  let cursor: string | undefined
  for (;;) {
    let page
    try {
      page = await client.results(id, { limit, cursor })
    } catch (error) {
      if (problemCodeOf(error) === 'PARASCAN_RESULTS_RESTARTED' && await output.restart()) {
        cursor = undefined
        continue
      }
      throw error
    }
    await output.write(page.items)
    if (page.complete) return output.lines
    if (page.items.length === 0) await sleep(intervalMs)
    cursor = page.next_cursor
  }
}
