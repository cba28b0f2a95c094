import type { ParallelConfig } from './parallel-config.js'
import type { SharedScanState } from './shared-scan-state.js'
import type { ErrorPolicy, MetricsCallback, OrderedWindow, ResultBatch, TaskModule } from './types.js'
import type { ScanSpec } from './worker-protocol.js'

/** Where the threads of a scan run: worker threads of a pool, or the calling thread. */
export interface ThreadHost {
  /** Starts slot `slot` on `spec`; its messages come back through ScanSession#onMessage. */
  start (slot: number, spec: ScanSpec): void
  /** Replaces the dead thread of `slot` with a new one. */
  respawn (slot: number): void
  /** Ends the thread of `slot` wherever it is; its exit comes back through ScanSession#onExit. */
  stop (slot: number): void
  /** The thread of `slot` gave its thread back (ScanSession#yieldThreads): the slot is idle and the thread is free. */
  release? (slot: number): void
}

/** How a thread ended. */
export interface ThreadExit {
  /** Exit code and error message, for error texts. */
  reason: string
  /** Its heap reached the pool's max_old_generation_mb. */
  outOfMemory: boolean
}

export interface ScanSessionOptions {
  scanId: number
  total: number
  moduleUrl: string
  params: unknown
  task: TaskModule
  config: ParallelConfig
  state: SharedScanState
  host: ThreadHost
  /** Slots that start with a thread (0 to threads - 1); the others start idle, for ScanSession#resume. Default: every slot. */
  threads?: number
  ordered: boolean
  /**
   * With `ordered`: the reorder window.
   * @defaultValue none (every result may be held)
   */
  window?: OrderedWindow
  onError: ErrorPolicy
  maxErrorSamples: number
  progressIntervalMs: number
  /** How long threads and onBatch get after an abort or a failure before the scan settles without them. */
  stopGraceMs: number
  /** Longest time one record may spend in process(); 0 is no limit. */
  recordTimeLimitMs: number
  /** How long a thread waits for the task module to import. */
  moduleLoadTimeoutMs: number
  /** The heap limit of the threads, named when one runs out of memory. */
  maxOldGenerationMb: number
  metrics?: MetricsCallback
  signal?: AbortSignal
  onBatch?: (batch: ResultBatch) => void | Promise<void>
}
