import { setTimeout as sleep } from 'node:timers/promises'
import type { ScanStatusDocument } from '../../schemas/scan-status.js'
import { codeOf } from '../error-codes.js'
import { TooManyStatusWaitersError } from '../errors.js'
import { problemCodeOf, type ApiClient } from './api-client.js'
import type { ProgressDisplay } from './progress-display.js'

const FINISHED = new Set(['succeeded', 'failed', 'cancelled'])
const TOO_MANY_WAITERS = codeOf(TooManyStatusWaitersError)

/**
 * Asks for the status of a scan until it has finished, showing each status on `display`: each request
 * waits on the server up to `intervalMs` for the scan to finish, so that its end shows at once; a
 * server that answers sooner (it does not wait, or has no room for another waiting request) is asked
 * again `intervalMs` after the request before.
 */
export async function waitForScan (client: ApiClient, id: string, display: ProgressDisplay, intervalMs: number): Promise<ScanStatusDocument> {
  try {
    for (;;) {
      const asked = performance.now()
      const status = await client.status(id, intervalMs).catch(async (error: unknown) => {
        // A server whose waiting requests are all taken still answers at once.
        if (problemCodeOf(error) !== TOO_MANY_WAITERS) throw error
        return await client.status(id)
      })
      display.update(status)
      if (FINISHED.has(status.status)) return status
      await sleep(Math.max(0, intervalMs - (performance.now() - asked)))
    }
  } finally {
    display.stop()
  }
}
