import Fastify from 'fastify'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { randomUUID } from 'node:crypto'

/**
 * The least a submit endpoint can do: one Fastify POST route that adds a
 * BullMQ job, with no validation and no status record. The service benchmark
 * runs it as the floor of what HTTP costs on this machine.
 */
const connection = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null })
const queue = new Queue('scans', { connection, prefix: process.env.PARASCAN_KEY_PREFIX ?? 'parascan-bench-floor' })
const app = Fastify({ logger: false })
app.post('/v1/scans', async (_request, reply) => {
  const id = randomUUID()
  await queue.add('scan', { id }, { jobId: id })
  return await reply.code(202).send({ id, status: 'queued' })
})
app.get('/readyz', async () => ({ status: 'ready' }))
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
process.once('SIGTERM', () => {
  void app.close().then(async () => { await queue.close(); connection.disconnect() })
})
