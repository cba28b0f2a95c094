import fp from 'fastify-plugin'
import { adminQueues } from '../../http/admin-queues.js'
import { BullmqScanQueue } from '../../queue/bullmq-scan-queue.js'

/** The queue dashboard at /admin/queues (BullMQ only, PARASCAN_ADMIN_UI), behind an API key when keys are set. */
export default fp(async (app) => {
  const { config, queue } = app
  if (!(queue instanceof BullmqScanQueue) || !config.adminUi) return
  await app.register(async (scope) => {
    const { apiKey } = app.auth
    if (apiKey !== undefined) scope.addHook('onRequest', apiKey)
    await scope.register(adminQueues, { queues: queue.queues })
  })
}, { name: 'dashboard', dependencies: ['config', 'auth', 'queue'] })
