import fp from 'fastify-plugin'
import { ScanConsumer } from '../../../workers/scan-consumer.js'
import { validateScan, planScan } from '../../pipeline/index.js'
import { ScanLostError, scanError } from '../../errors.js'
import { instanceName } from '../../config/instance-name.js'
import { tenantQuota } from '../../config/tenant-storage-quota.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Runs the scans this instance takes from the queue. */
    consumer: ScanConsumer
  }
}

export interface ConsumerPluginOptions {
  /**
   * Takes jobs from the queue (with PARASCAN_CONCURRENCY above 0). False leaves every scan queued.
   * @defaultValue true
   */
  consume?: boolean
}

/** Starts taking jobs once the whole app is ready; closing the queue stops it. */
export default fp<ConsumerPluginOptions>(async (app, options) => {
  const { config, consumerStore: store, metrics, queue } = app
  const consumer = new ScanConsumer({
    pool: app.pool,
    config: app.parallelConfig,
    store,
    planner: { validateScan, planScan },
    context: app.scanContext(),
    contextFor: app.scanContext,
    metrics,
    progressIntervalMs: config.progressIntervalMs,
    scanTimeoutMs: config.scanTimeoutMs,
    maxScanResultBytes: config.maxScanResultBytes,
    maxCrashedAttempts: config.maxCrashedAttempts,
    recordTimeLimitMs: config.recordTimeLimitMs,
    maxRunningPerTenant: config.maxRunningScansPerTenant,
    concurrency: config.concurrency,
    storageQuota: tenantQuota(config.tenantStorageBytes, config.tenantStorageBytesPerTenant),
    partitionPolicy: { partitionRecords: config.partitionRecords, maxPartitions: config.maxPartitions },
    instance: instanceName(),
    log: app.log
  })
  app.decorate('consumer', consumer)
  queue.onJobLost((id) => {
    consumer.abandon(id, scanError(new ScanLostError('The instances running this scan kept stopping; the queue gave up on it'))).then((abandoned) => {
      if (abandoned) metrics.scans.inc({ outcome: 'failed' })
    }, (cause: unknown) => app.log.warn({ err: cause, scan: id }, 'could not mark a lost scan as failed'))
  })
  if (config.concurrency > 0 && options.consume !== false) {
    app.addHook('onReady', async () => queue.process(consumer.process, consumer.processPartition))
  }
}, { name: 'consumer', dependencies: ['config', 'metrics', 'store', 'pool', 'queue'] })
