import fp from 'fastify-plugin'
import { adminQueues } from '../../http/admin-queues.js'
import { BullmqScanQueue } from '../../queue/bullmq-scan-queue.js'

/**
 * The queue dashboard at /admin/queues (BullMQ only, PARASCAN_ADMIN_UI) behind its own HTTP Basic
 * credential. With tenants it shows every tenant's scans, so without that credential it is off.
 */
export default fp(async (app) => {
  const { config, queue } = app
  if (!(queue instanceof BullmqScanQueue) || !config.adminUi) return
  if (config.apiKeys !== undefined && config.adminCredentials === undefined) return
  await app.register(adminQueues, {
    queues: queue.queues,
    credentials: config.adminCredentials,
    failures: { maxFailures: config.authFailureLimit, windowMs: config.authFailureWindowMs }
  })
}, { name: 'dashboard', dependencies: ['config', 'queue'] })
