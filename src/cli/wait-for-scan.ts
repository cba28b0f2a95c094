import { setTimeout as sleep } from 'node:timers/promises'
import type { ScanStatusDocument } from '../../schemas/scan-status.js'
import type { ApiClient } from './api-client.js'
import type { ProgressDisplay } from './progress-display.js'

const FINISHED = new Set(['succeeded', 'failed', 'cancelled'])

/** Polls the status of a scan every `intervalMs` until it has finished, showing each status on `display`. */
export async function waitForScan (client: ApiClient, id: string, display: ProgressDisplay, intervalMs: number): Promise<ScanStatusDocument> {
  try {
    for (;;) {
      const status = await client.status(id)
      display.update(status)
      if (FINISHED.has(status.status)) return status
      await sleep(intervalMs)
    }
  } finally {
    display.stop()
  }
}
