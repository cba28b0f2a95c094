import fp from 'fastify-plugin'
import { ScanService } from '../../http/scan-service.js'
import { ScanLimits } from '../../http/scan-limits.js'
import { validateScan, planScan } from '../../pipeline/index.js'
import { processorCatalogue } from '../../pipeline/processor-catalogue.js'
import { tenantQuota } from '../../config/tenant-storage-quota.js'
import { StatusWaiters } from '../../http/status-waiters.js'
import { watchScanEnds } from '../../store/watch-scan-ends.js'
import { FINISHED_STATUSES } from '../../store/scan-record.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Submit, status, list, results, cancel and delete, independent of HTTP. */
    scans: ScanService
    /** Status requests waiting for their scan to end (GET /v1/scans/:id?wait=…). */
    statusWaiters: StatusWaiters
  }
}

export default fp(async (app) => {
  const { config } = app
  app.decorate('scans', new ScanService({
    store: app.store,
    queue: app.queue,
    planner: { validateScan, planScan },
    context: app.scanContext(),
    contextFor: app.scanContext,
    config: app.parallelConfig,
    limits: new ScanLimits({
      maxInlineRecords: config.maxInlineRecords,
      maxExpressionLength: config.maxExpressionLength,
      maxPipelineSteps: config.maxPipelineSteps,
      maxResults: config.maxResults,
      scanTimeoutMs: config.scanTimeoutMs,
      maxPartitions: config.maxPartitions
    }),
    admission: { maxQueued: config.maxQueuedScans, maxQueuedPerTenant: config.maxQueuedScansPerTenant },
    maxPageBytes: config.maxPageBytes,
    storageQuota: tenantQuota(config.tenantStorageBytes, config.tenantStorageBytesPerTenant),
    log: app.log
  }))
  const waiters = new StatusWaiters({
    active: async (id) => {
      const head = await app.store.head(id)
      return head !== undefined && !FINISHED_STATUSES.has(head.status)
    },
    // Each wait holds a connection: half of them stay for everything else.
    maxWaiters: Math.min(config.maxStatusWaiters, Math.floor(config.maxConnections / 2)),
    pollIntervalMs: config.statusWaitPollMs
  })
  for (const store of new Set([app.store, app.consumerStore])) watchScanEnds(store, (id) => waiters.changed(id))
  app.decorate('statusWaiters', waiters)
  app.addHook('preClose', async () => waiters.close())
  const catalogue = await processorCatalogue(config.processorsDir)
  const processors = [...catalogue.entries.entries()].map(([name, entry]) => entry.file === undefined ? name : `${name} (${entry.file})`)
  app.log.info({ processorsDir: config.processorsDir, processors }, `processors: ${processors.join(', ')}`)
  for (const problem of catalogue.problems) app.log.warn({ processorsDir: config.processorsDir }, `plug-in left out: ${problem}`)
}, { name: 'scans', dependencies: ['config', 'store', 'queue'] })
