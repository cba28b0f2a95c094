import type { FastifyPluginAsync } from 'fastify'
import type { Queue } from 'bullmq'
import { createBullBoard } from '@bull-board/api'
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter'
import { FastifyAdapter } from '@bull-board/fastify'

export interface AdminQueuesOptions {
  /** BullMQ queues shown on the dashboard. Required. */
  queues: Queue[]
  /** URL path of the dashboard. Default: '/admin/queues'. */
  basePath?: string
  /** Hides the retry, promote, clean and remove buttons: a job's scan record lives in the store, not in the queue. Default: true. */
  readOnly?: boolean
  /** Title shown in the dashboard's header. Default: 'parascan'. */
  title?: string
}

/** The bull-board queue dashboard; its routes are left out of the OpenAPI document. */
export const adminQueues: FastifyPluginAsync<AdminQueuesOptions> = async (fastify, options) => {
  const basePath = options.basePath ?? '/admin/queues'
  const serverAdapter = new FastifyAdapter()
  serverAdapter.setBasePath(basePath)
  createBullBoard({
    queues: options.queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode: options.readOnly ?? true })),
    serverAdapter,
    options: { uiConfig: { boardTitle: options.title ?? 'parascan' } }
  })
  await fastify.register(serverAdapter.registerPlugin(), { prefix: basePath })
}
