import type { ScanStatusDocument } from '../../schemas/scan-status.js'
import type { ApiClient } from './api-client.js'
import { ResultsCutShortError } from './errors.js'
import type { NdjsonOutput } from './ndjson-output.js'
import { waitForScan } from './wait-for-scan.js'

const QUIET = { update () {}, stop () {} }

export interface DownloadResultsOptions {
  /**
   * Wait between two status requests while the scan is queued or running (ms).
   * @defaultValue 500
   */
  intervalMs?: number
}

/**
 * Waits until the scan has finished, then writes every stored result, streamed as NDJSON in one
 * response. Returns the scan's final status document: the results of a failed or cancelled scan
 * are partial.
 */
export async function downloadResults (client: ApiClient, id: string, output: NdjsonOutput, options: DownloadResultsOptions = {}): Promise<ScanStatusDocument> {
  const status = await waitForScan(client, id, QUIET, options.intervalMs ?? 500)
  const download = await client.resultLines(id)
  const before = output.lines
  try {
    for await (const chunk of download.body) await output.writeChunk(chunk)
  } catch (error) {
    throw new ResultsCutShortError(id, output.lines - before, download.count, (error as Error).message)
  }
  if (output.lines - before !== download.count) throw new ResultsCutShortError(id, output.lines - before, download.count, 'the response ended early')
  return status
}
