import { Worker } from 'node:worker_threads'
import { ScanSession } from '../../src/parallel/scan-session.js'
import type { ScanSessionOptions } from '../../src/parallel/scan-session-options.js'
import { loadTaskModule } from '../../src/parallel/task-module-loader.js'
import {
  DEFAULT_MAX_OLD_GENERATION_MB, DEFAULT_MODULE_LOAD_TIMEOUT_MS, DEFAULT_PROGRESS_INTERVAL_MS, DEFAULT_STOP_GRACE_MS
} from '../../src/parallel/work-stealing-pool.js'
import type { WorkerMessage } from '../../src/parallel/worker-protocol.js'

const workerEntry = new URL('../../workers/pool-worker.js', import.meta.url)

export interface ThreadSession {
  session: ScanSession
  /** Ends every thread the session started. */
  terminate: () => Promise<void>
}

/**
 * One unordered scan session on real pool threads with the pool's defaults, for tests that look
 * inside the engine. `beforeStart` runs in the main thread before each thread starts (after the
 * session has seeded the shared state); with `reportExits` the session hears when a thread exits.
 */
export async function threadSession (
  options: Pick<ScanSessionOptions, 'total' | 'moduleUrl' | 'params' | 'config' | 'state'>,
  hooks: { beforeStart?: (slot: number) => void, reportExits?: boolean } = {}
): Promise<ThreadSession> {
  const threads: Worker[] = []
  const all: Worker[] = []
  let session: ScanSession | undefined
  session = new ScanSession({
    ...options,
    scanId: 1,
    task: await loadTaskModule(options.moduleUrl),
    host: {
      start: (slot, spec) => {
        hooks.beforeStart?.(slot)
        const thread = new Worker(workerEntry)
        thread.on('message', (message: WorkerMessage) => session?.onMessage(slot, message))
        if (hooks.reportExits === true) thread.on('exit', (code) => session?.onExit(slot, { reason: `code ${code}`, outOfMemory: false }))
        thread.postMessage({ type: 'scan', spec })
        threads[slot] = thread
        all.push(thread)
      },
      respawn: () => {},
      stop: (slot) => { void threads[slot]?.terminate() }
    },
    ordered: false,
    onError: 'fail',
    maxErrorSamples: 10,
    progressIntervalMs: DEFAULT_PROGRESS_INTERVAL_MS,
    stopGraceMs: DEFAULT_STOP_GRACE_MS,
    recordTimeLimitMs: 0,
    moduleLoadTimeoutMs: DEFAULT_MODULE_LOAD_TIMEOUT_MS,
    maxOldGenerationMb: DEFAULT_MAX_OLD_GENERATION_MB
  })
  const made = session
  return {
    session: made,
    terminate: async () => {
      session = undefined
      await Promise.all(all.map(async (thread) => await thread.terminate()))
    }
  }
}
