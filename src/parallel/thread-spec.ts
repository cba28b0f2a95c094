import type { ScanSessionOptions } from './scan-session-options.js'
import type { ScanSpec } from './worker-protocol.js'

/** What the thread of slot `workerId` of `workers` is started on; `takeOver`: it replaces a thread that died. */
export function threadSpec (o: ScanSessionOptions, workers: number, workerId: number, takeOver: boolean): ScanSpec {
  return {
    scanId: o.scanId,
    moduleUrl: o.moduleUrl,
    params: o.params,
    buffer: o.state.buffer,
    workers,
    workerId,
    total: o.total,
    scheduler: o.config.scheduler,
    config: o.config.toJSON(),
    ordered: o.ordered,
    window: o.window ?? { records: 2 ** 31 - 1, bytes: Number.MAX_SAFE_INTEGER },
    onError: o.onError,
    maxErrorSamples: o.maxErrorSamples,
    moduleLoadTimeoutMs: o.moduleLoadTimeoutMs,
    takeOver
  }
}
