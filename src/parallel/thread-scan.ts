import { fromWire } from './params-wire.js'
import { loadTaskModule } from './task-module-loader.js'
import { ScanRunner, type ScanRunnerOptions } from './scan-runner.js'
import { SharedScanState } from './shared-scan-state.js'
import type { TaskModule } from './types.js'
import { describeError, type ScanSpec, type WorkerMessage } from './worker-protocol.js'

const states = new WeakMap<SharedArrayBuffer, Map<number, SharedScanState>>()

function stateFor (buffer: SharedArrayBuffer, workers: number): SharedScanState {
  let byWorkers = states.get(buffer)
  if (byWorkers === undefined) states.set(buffer, byWorkers = new Map())
  let state = byWorkers.get(workers)
  if (state === undefined) byWorkers.set(workers, state = new SharedScanState(buffer, workers))
  return state
}

/** Runs this thread's part of a scan; every outcome is posted, nothing is thrown. */
export async function runThreadScan (wire: ScanSpec, post: (message: WorkerMessage) => void, afterFlush?: ScanRunnerOptions['afterFlush']): Promise<void> {
  const spec = fromWire(wire)
  const state = stateFor(spec.buffer, spec.workers)
  let runner: ScanRunner
  try {
    const task = await loadWithin(spec.moduleUrl, spec.moduleLoadTimeoutMs)
    runner = new ScanRunner(spec, task, state, { post, afterFlush })
  } catch (error) {
    state.abort()
    post({ type: 'failed', scanId: spec.scanId, workerId: spec.workerId, failure: { kind: 'module', offset: -1, count: 0, detail: describeError(error) } })
    post({
      type: 'done',
      scanId: spec.scanId,
      workerId: spec.workerId,
      metrics: {
        worker_id: spec.workerId, chunks_processed: 0, records_processed: 0, avg_ms: 0, p50_ms: 0, p95_ms: 0, p99_ms: 0,
        steals_attempted: 0, steals_successful: 0, max_local_queue_depth: 0, avg_local_queue_depth: 0,
        lock_contention_events: 0, time_waiting_on_lock_ms: 0
      },
      histograms: { worker_id: spec.workerId, chunk_ms: [], chunk_size: [] },
      feederDepthMax: 0
    })
    return
  }
  await runner.run()
}

async function loadWithin (url: string, ms: number): Promise<TaskModule> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`did not finish loading within module_load_timeout_ms = ${ms} (a top-level await that never settles?)`)), ms)
  })
  try {
    return await Promise.race([loadTaskModule(url), timeout])
  } finally {
    clearTimeout(timer)
  }
}
