import fp from 'fastify-plugin'
import { WorkStealingPool } from '../../parallel/work-stealing-pool.js'
import { planScan } from '../../pipeline/index.js'
import type { ScanPool } from '../../http/scan-planner.js'
import { ServiceUnavailableError } from '../../errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The instance's one worker pool; every scan that runs here shares it. */
    pool: ScanPool
    /** Throws a ServiceUnavailableError while the pool starts, after it failed to start, and once it is closed. */
    checkPool: () => void
  }
}

export interface PoolPluginOptions {
  /**
   * Used instead of a WorkStealingPool of `parallelConfig`.
   * @defaultValue a new WorkStealingPool
   */
  pool?: ScanPool
}

/** Starts the pool's threads at once (a small scan), so that /readyz tells whether they can start. */
export default fp<PoolPluginOptions>(async (app, options) => {
  const pool = options.pool ?? new WorkStealingPool({ config: app.parallelConfig, max_old_generation_mb: app.config.workerHeapMb, concurrent_scans: true })
  let state: 'starting' | 'started' | 'closed' | Error = 'starting'
  const workers = app.parallelConfig.max_workers
  planScan({ source: { type: 'range', start: 0, end: workers }, pipeline: [], ordered: false, on_error: 'fail' }, app.scanContext())
    .then(async (plan) => await pool.stream(plan.total, plan.task, { onBatch: () => {} }))
    .then(() => { if (state === 'starting') state = 'started' }, (error: unknown) => {
      if (state === 'starting') state = error instanceof Error ? error : new Error(String(error))
    })
  app.decorate('pool', pool)
  app.decorate('checkPool', () => {
    if (state === 'closed') throw new ServiceUnavailableError('the worker pool is closed')
    if (state === 'starting') throw new ServiceUnavailableError('the worker pool is starting')
    if (state instanceof Error) throw new ServiceUnavailableError(`the worker pool did not start: ${state.message}`)
  })
  app.addHook('onClose', async () => {
    state = 'closed'
    await pool.close()
  })
}, { name: 'pool', dependencies: ['config'] })
