import Fastify, { type FastifyInstance } from 'fastify'
import fastifySwagger from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod'
import { scanRoutes } from '../routes/scans.js'
import { processorRoutes } from '../routes/processors.js'
import { operationsRoutes } from '../routes/operations.js'
import { openApiOptions } from './http/openapi.js'
import { toProblem, sendProblem } from './http/problem-details.js'
import type { ScanService } from './http/scan-service.js'
import type { ServiceMetrics } from './metrics/service-metrics.js'
import { ServiceUnavailableError } from './errors.js'
import { adminQueues } from './http/admin-queues.js'
import type { AdminCredentials } from './config/admin-credentials.js'
import type { Queue } from 'bullmq'
import type { Redis } from 'ioredis'
import fastifyRateLimit from '@fastify/rate-limit'
import { apiKeyAuth } from './http/api-key-auth.js'
import { clientErrorHandler } from './http/client-error.js'
import { refuseContentEncoding } from './http/content-encoding.js'
import type { AuthFailureBrakeOptions } from './http/auth-failure-brake.js'
import { isRedisUnavailable } from './http/redis-unavailable.js'
import type { ApiKeyEntry } from './config/api-keys.js'
import { RateLimitedError } from './errors.js'

export interface AppOptions {
  /** Required. */
  service: ScanService
  /** Required. */
  metrics: ServiceMetrics
  /** Throws when the instance cannot serve scans. Required. */
  readiness: () => Promise<void>
  /** Refreshes on-demand gauges before /metrics is read. Default: none. */
  beforeScrape?: () => Promise<void>
  /** Largest request body in bytes. Default: 32 MiB. */
  bodyLimit?: number
  /** Pino level, or false for no logging. Default: 'info'. */
  logLevel?: string | false
  /** Version in the OpenAPI document. Default: '0.1.0'. */
  version?: string
  /** BullMQ queues shown by the dashboard at /admin/queues. Default: none, and no dashboard. */
  adminQueues?: Queue[]
  /** HTTP Basic credential of the dashboard. Default: none (the dashboard is open). */
  adminCredentials?: AdminCredentials
  /** API keys of the tenants: every /v1 route and the dashboard need one. Default: none (open). */
  apiKeys?: readonly ApiKeyEntry[]
  /** Bearer token of GET /metrics. Default: none (open). */
  metricsToken?: string
  /** Failed keys one client address may send per window before it gets 429s. Default: 10 per minute. */
  authFailures?: AuthFailureBrakeOptions
  /** Requests per tenant (or client address without API keys) per window on /v1; 0 is no limit. Default: 0. */
  rateLimit?: number
  /** Window of `rateLimit` (ms). Default: 60000. */
  rateLimitWindowMs?: number
  /** Redis that holds the rate-limit counters, shared by every instance. Default: none (counters in this process). */
  rateLimitRedis?: Redis
  /** Namespace of the rate-limit keys in Redis. Default: 'parascan:rate-limit:'. */
  rateLimitNamespace?: string
  /** Time to receive a whole request, headers and body (ms); past it a 408 problem+json and the connection is closed. Default: 30000. */
  requestTimeoutMs?: number
  /** Time to receive a request's headers (ms), at most `requestTimeoutMs`. Default: 10000. */
  headersTimeoutMs?: number
  /** How long an idle keep-alive connection stays open (ms). Default: 5000. */
  keepAliveTimeoutMs?: number
  /** Most open connections; more are closed at once. Default: 1000. */
  maxConnections?: number
  /** Seconds in the Retry-After header of a 503 (Redis unreachable). Default: 2. */
  unavailableRetryAfterSeconds?: number
}

/** The Fastify application: routes, validation, problem+json errors, OpenAPI and metrics. */
export async function buildApp (options: AppOptions): Promise<FastifyInstance> {
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000
  const app = Fastify({
    logger: options.logLevel === false ? false : { level: options.logLevel ?? 'info' },
    bodyLimit: options.bodyLimit ?? 32 * 1024 * 1024,
    requestTimeout: requestTimeoutMs,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 5000,
    // Timeouts are checked this often (Node's default is every 30 s).
    http: { headersTimeout: Math.min(options.headersTimeoutMs ?? 10_000, requestTimeoutMs), connectionsCheckingInterval: Math.max(100, Math.min(1000, requestTimeoutMs / 4)) },
    clientErrorHandler,
    // Keys such as __proto__ are data: JSON.parse keeps them as own properties, which nothing here copies by assignment.
    onProtoPoisoning: 'ignore',
    onConstructorPoisoning: 'ignore',
    return503OnClosing: true,
    routerOptions: { maxParamLength: 500 },
    frameworkErrors: (error, request, reply) => sendProblem(reply, toProblem(error, request))
  }).withTypeProvider<ZodTypeProvider>()
  app.server.maxConnections = options.maxConnections ?? 1000
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  app.removeContentTypeParser('text/plain')

  const unavailableRetryAfter = String(options.unavailableRetryAfterSeconds ?? 2)
  app.setErrorHandler((error, request, reply) => {
    const cause = isRedisUnavailable(error) ? new ServiceUnavailableError('Redis is unreachable; try again shortly') : error
    const problem = toProblem(cause as Parameters<typeof toProblem>[0], request)
    if (problem.status >= 500 && problem.status !== 503) request.log.error({ err: error }, 'request failed')
    const headers = (cause as { headers?: unknown }).headers
    if (headers !== null && typeof headers === 'object') reply.headers(headers as Record<string, string>)
    if (problem.status === 503) reply.header('retry-after', unavailableRetryAfter)
    return sendProblem(reply, problem)
  })
  app.addHook('onRequest', refuseContentEncoding)
  app.addHook('onRequest', apiKeyAuth({ apiKeys: options.apiKeys, metricsToken: options.metricsToken, failures: options.authFailures }))
  if ((options.rateLimit ?? 0) > 0) {
    await app.register(fastifyRateLimit, {
      global: true,
      allowList: (request) => !(request.routeOptions.url ?? '').startsWith('/v1'),
      max: options.rateLimit,
      timeWindow: options.rateLimitWindowMs ?? 60_000,
      redis: options.rateLimitRedis,
      nameSpace: options.rateLimitNamespace ?? 'parascan:rate-limit:',
      skipOnError: true,
      keyGenerator: (request) => request.tenant === undefined ? `ip:${request.ip}` : `tenant:${request.tenant}`,
      errorResponseBuilder: (_request, context) => new RateLimitedError(`at most ${context.max} requests per ${(options.rateLimitWindowMs ?? 60_000) / 1000} s; retry in ${context.after}`)
    })
  }
  app.setNotFoundHandler((request, reply) => sendProblem(reply, {
    type: 'urn:parascan:problem:PARASCAN_NOT_FOUND',
    title: 'Not Found',
    status: 404,
    detail: `No route ${request.method} ${request.url.split('?')[0]}`,
    code: 'PARASCAN_NOT_FOUND',
    instance: request.url.split('?')[0]
  }))

  app.addHook('onResponse', async (request, reply) => {
    options.metrics.httpRequestDuration.observe({
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status_code: String(reply.statusCode)
    }, reply.elapsedTime / 1000)
  })

  await app.register(fastifySwagger, openApiOptions({
    version: options.version ?? '0.1.0',
    apiKeys: options.apiKeys !== undefined,
    metricsToken: options.metricsToken !== undefined
  }))
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' })

  await app.register(scanRoutes, { service: options.service })
  await app.register(processorRoutes, { service: options.service })
  if (options.adminQueues !== undefined && options.adminQueues.length > 0) await app.register(adminQueues, { queues: options.adminQueues, credentials: options.adminCredentials, failures: options.authFailures })
  await app.register(operationsRoutes, {
    registry: options.metrics.registry,
    beforeScrape: options.beforeScrape,
    readiness: async () => {
      try {
        await options.readiness()
      } catch (error) {
        throw error instanceof ServiceUnavailableError ? error : new ServiceUnavailableError((error as Error).message)
      }
    }
  })
  return app
}
