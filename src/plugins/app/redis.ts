import fp from 'fastify-plugin'
import { Redis, type RedisOptions } from 'ioredis'
import { withTimeout } from '../../http/with-timeout.js'
import { ServiceUnavailableError } from '../../errors.js'

export interface RedisConnections {
  /** Commands of HTTP requests: fails at once while Redis is away (no offline queue, one retry, a command timeout), so requests answer 503. */
  requests: Redis
  /** Commands of the scans that run here: waits for Redis to come back. */
  scans: Redis
  /** The cancel channel (subscriber mode). */
  subscriber: Redis
  /** The BullMQ worker's blocking connection. */
  worker: Redis
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Connections to REDIS_URL; null in embedded mode. */
    redis: RedisConnections | null
  }
}

const CONNECT_TIMEOUT_MS = 5000
const REQUEST_COMMAND_TIMEOUT_MS = 3000

/** Connects to REDIS_URL when it is set. The store and the queue close the connections they use; onClose drops whatever is left. */
export default fp(async (app) => {
  const url = app.config.redisUrl
  if (url === undefined) {
    app.decorate('redis', null)
    return
  }
  const options: RedisOptions = { maxRetriesPerRequest: null, connectTimeout: CONNECT_TIMEOUT_MS, lazyConnect: true }
  const failFast: RedisOptions = { ...options, enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: REQUEST_COMMAND_TIMEOUT_MS }
  const connections: RedisConnections = { requests: new Redis(url, failFast), scans: new Redis(url, options), subscriber: new Redis(url, options), worker: new Redis(url, options) }
  const all = Object.values(connections)
  // Errors reach the callers of each command (and /readyz); the last one explains a failed start.
  let lastError: Error | undefined
  for (const connection of all) connection.on('error', (error: Error) => { lastError = error })
  try {
    await withTimeout(Promise.all(all.map(async (connection) => await connection.connect())), CONNECT_TIMEOUT_MS, `no answer within ${CONNECT_TIMEOUT_MS} ms`)
  } catch (error) {
    for (const connection of all) connection.disconnect()
    const { host, port } = connections.requests.options
    const reason = (lastError ?? error as Error).message
    throw new ServiceUnavailableError(`cannot reach Redis at ${host}:${port} (${app.config.variables.PARASCAN_REDIS_URL}=${redact(url)}): ${reason}`)
  }
  app.decorate('redis', connections)
  app.addHook('onClose', async () => { for (const connection of all) connection.disconnect() })
}, { name: 'redis', dependencies: ['config'] })

function redact (url: string): string {
  const parsed = new URL(url)
  if (parsed.password !== '') parsed.password = '***'
  return parsed.toString()
}
