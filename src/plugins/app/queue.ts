import fp from 'fastify-plugin'
import type { ScanQueue } from '../../queue/scan-queue.js'
import { MemoryScanQueue } from '../../queue/memory-scan-queue.js'
import { MemoryScanStore } from '../../store/memory-scan-store.js'
import { BullmqScanQueue } from '../../queue/bullmq-scan-queue.js'
import { instanceName } from '../../config/instance-name.js'

declare module 'fastify' {
  interface FastifyInstance {
    queue: ScanQueue
  }
}

export interface QueuePluginOptions {
  /**
   * Used instead of the queue the configuration picks.
   * @defaultValue in memory, or BullMQ with REDIS_URL
   */
  queue?: ScanQueue
}

/**
 * onClose stops taking jobs and gives the running scans SHUTDOWN_GRACE to finish before it hands them
 * back; they use the pool and the store, so those are registered first and closed after it.
 */
export default fp<QueuePluginOptions>(async (app, options) => {
  const { config, redis } = app
  // One scan job slot more than PARASCAN_CONCURRENCY: the consumer keeps it for a tenant that runs nothing here.
  // Partition jobs are taken in queue order, so a scan's partitions run in record order.
  const jobSlots = config.concurrency + 1
  const partitionConcurrency = config.concurrency
  const queue = options.queue ?? (redis === null
    ? new MemoryScanQueue({ concurrency: jobSlots, partitionConcurrency, ...(app.store instanceof MemoryScanStore ? app.store.recovered : {}) })
    : new BullmqScanQueue({
      connection: redis.requests,
      sharedConnection: true,
      workerConnection: redis.worker,
      prefix: config.keyPrefix,
      concurrency: jobSlots,
      partitionConcurrency,
      lockDurationMs: config.lockDurationMs,
      partitionLockMs: config.partitionLockMs,
      instance: instanceName(),
      log: app.log,
      retentionMs: config.retentionMs
    }))
  app.decorate('queue', queue)
  app.addHook('onClose', async () => await queue.close(config.shutdownGraceMs))
}, { name: 'queue', dependencies: ['config', 'redis', 'store', 'pool'] })
