import { ParallelConfig } from './parallel-config.js'
import type { ScanOptions, ScanTask } from './types.js'
import { WorkStealingPool } from './work-stealing-pool.js'

/**
 * Scans records [0, total) with a pool made for this one scan: each thread
 * imports `task.module`, fetches chunks and processes every record. Resolves
 * to the results (the aggregate rows when the module aggregates).
 */
export async function parallelScan (total: number, task: ScanTask, options: ScanOptions = {}): Promise<unknown[]> {
  const pool = new WorkStealingPool({ config: new ParallelConfig(options.config) })
  try {
    return await pool.scan(total, task, { ...options, config: undefined })
  } finally {
    await pool.close()
  }
}
