import fp from 'fastify-plugin'
import { adminQueues } from '../../http/admin-queues.js'
import { requireApiKey } from '../../http/api-key-auth.js'
import { BullmqScanQueue } from '../../queue/bullmq-scan-queue.js'

/** The queue dashboard at /admin/queues (BullMQ only, PARASCAN_ADMIN_UI), behind an API key when keys are set. */
export default fp(async (app) => {
  const { config, queue } = app
  if (!(queue instanceof BullmqScanQueue) || !config.adminUi) return
  await app.register(async (scope) => {
    if (config.apiKeys !== undefined) scope.addHook('onRequest', requireApiKey(config.apiKeys))
    await scope.register(adminQueues, { queues: [queue.queue] })
  })
}, { name: 'dashboard', dependencies: ['config', 'queue'] })
