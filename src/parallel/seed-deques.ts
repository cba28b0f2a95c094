import type { ParallelConfig } from './parallel-config.js'
import type { SharedScanState } from './shared-scan-state.js'

/**
 * Deals out the records [0, total) before the threads start: an even share in each thread's deque,
 * or, with the thread_pool scheduler, nothing (its threads claim records at the shared cursor).
 * Returns the depth seeded, for the final metrics.
 */
export function seedDeques (state: SharedScanState, scheduler: ParallelConfig['scheduler'], total: number, workers: number): number {
  if (scheduler === 'thread_pool') return total > 0 ? 1 : 0
  let depth = 0
  for (let i = 0; i < workers; i++) {
    const lo = Math.floor(i * total / workers)
    const hi = Math.floor((i + 1) * total / workers)
    if (hi > lo) {
      state.push(i, lo, hi - lo)
      depth++
    }
  }
  return depth
}
