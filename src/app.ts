import Fastify, { type FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod'
import { loadServiceConfig } from './config/service-config.js'
import { ParallelConfig } from './parallel/parallel-config.js'
import { sendProblem, toProblem } from './http/problem-details.js'
import { clientErrorHandler } from './http/client-error.js'
import { capConnections } from './http/connection-cap.js'
import { answerOutsideFastify } from './http/node-answers.js'
import { requireHost } from './http/require-host.js'
import { refuseContentEncoding } from './http/content-encoding.js'
import { parseJsonBody } from './http/json-body.js'
import config from './plugins/app/config.js'
import redis from './plugins/app/redis.js'
import auth from './plugins/app/auth.js'
import problemDetails from './plugins/app/problem-details.js'
import metrics from './plugins/app/metrics.js'
import store from './plugins/app/store.js'
import pool from './plugins/app/pool.js'
import queue from './plugins/app/queue.js'
import scans from './plugins/app/scans.js'
import consumer from './plugins/app/consumer.js'
import swagger from './plugins/external/swagger.js'
import dashboard from './plugins/external/dashboard.js'
import { operationsRoutes } from '../routes/operations.js'
import { v1Routes } from '../routes/v1/index.js'
import type { ScanStore } from './store/scan-store.js'
import type { ScanQueue } from './queue/scan-queue.js'
import type { ScanPool } from './http/scan-planner.js'

export interface AppOptions {
  /**
   * Where the configuration is read from (see docs/configuration.md).
   * @defaultValue process.env
   */
  env?: NodeJS.ProcessEnv
  /**
   * Replaces the store the configuration picks.
   * @defaultValue memory, or Redis with REDIS_URL
   */
  store?: ScanStore
  /**
   * Replaces the queue the configuration picks.
   * @defaultValue in memory, or BullMQ with REDIS_URL
   */
  queue?: ScanQueue
  /**
   * Replaces the worker pool.
   * @defaultValue a WorkStealingPool of the PROTO_PARALLEL_* settings
   */
  pool?: ScanPool
  /**
   * Takes jobs from the queue; false leaves every scan queued.
   * @defaultValue true
   */
  consume?: boolean
}

/** Registers the plugins in dependency order; Fastify closes them in reverse order. */
export const parascan = fp<AppOptions & { config: ReturnType<typeof loadServiceConfig>, parallelConfig: ParallelConfig }>(async (app, options) => {
  await app.register(config, options)
  await app.register(redis)
  await app.register(problemDetails)
  await app.register(auth)
  await app.register(metrics)
  await app.register(swagger)
  await app.register(store, { store: options.store })
  await app.register(pool, { pool: options.pool })
  await app.register(queue, { queue: options.queue })
  await app.register(scans)
  await app.register(consumer, { consume: options.consume })
  await app.register(dashboard)
  await app.register(operationsRoutes)
  await app.register(v1Routes, { prefix: '/v1' })
}, { name: 'parascan' })

/** Reads the configuration and builds the app, ready to listen; `app.close()` shuts all of it down. */
export async function buildApp (options: AppOptions = {}): Promise<FastifyInstance> {
  const env = options.env ?? process.env
  const serviceConfig = loadServiceConfig(env)
  const parallelConfig = new ParallelConfig({}, env)
  const requestTimeoutMs = serviceConfig.requestTimeoutMs
  const app = Fastify({
    logger: { level: serviceConfig.logLevel },
    bodyLimit: serviceConfig.bodyLimit,
    requestTimeout: requestTimeoutMs,
    keepAliveTimeout: serviceConfig.keepAliveTimeoutMs,
    // Timeouts are checked this often (Node's default is every 30 s); a missing Host is refused by requireHost, as problem+json.
    http: {
      headersTimeout: Math.min(serviceConfig.headersTimeoutMs, requestTimeoutMs),
      connectionsCheckingInterval: Math.max(100, Math.min(1000, requestTimeoutMs / 4)),
      requireHostHeader: false
    },
    clientErrorHandler,
    // Keys such as __proto__ are data: JSON.parse keeps them as own properties, which nothing here copies by assignment.
    onProtoPoisoning: 'ignore',
    onConstructorPoisoning: 'ignore',
    // Requests that arrive while the app closes get a problem+json 503 from the problem-details plugin.
    return503OnClosing: false,
    routerOptions: { maxParamLength: 500 },
    frameworkErrors: (error, request, reply) => sendProblem(reply, toProblem(error, request))
  }).withTypeProvider<ZodTypeProvider>()
  capConnections(app.server, serviceConfig.maxConnections)
  answerOutsideFastify(app.server)
  app.addHook('onRequest', requireHost)
  app.addHook('onRequest', refuseContentEncoding)
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  app.removeContentTypeParser('text/plain')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, parseJsonBody)
  for (const line of serviceConfig.deprecated) app.log.warn(line)
  try {
    await app.register(parascan, { ...options, config: serviceConfig, parallelConfig })
    await app.ready()
  } catch (error) {
    await app.close()
    throw error
  }
  return app
}
