import Fastify, { type FastifyInstance } from 'fastify'
import fastifySwagger from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import {
  jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler, type ZodTypeProvider
} from 'fastify-type-provider-zod'
import { scanRoutes } from '../routes/scans.js'
import { operationsRoutes } from '../routes/operations.js'
import { toProblem, sendProblem } from './http/problem-details.js'
import type { ScanService } from './http/scan-service.js'
import type { ServiceMetrics } from './metrics/service-metrics.js'
import { ServiceUnavailableError } from './errors.js'
import { adminQueues } from './http/admin-queues.js'
import type { Queue } from 'bullmq'

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
}

const API_DESCRIPTION = `Parallel scans as a service. Submit a scan (a source of records plus a pipeline of CEL filters, maps and
processors, or an aggregate), poll its status, and page through its results while it runs. Every error is
application/problem+json with a stable \`code\`; validation errors list each bad field in \`errors\`.`

/** The Fastify application: routes, validation, problem+json errors, OpenAPI and metrics. */
export async function buildApp (options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logLevel === false ? false : { level: options.logLevel ?? 'info' },
    bodyLimit: options.bodyLimit ?? 32 * 1024 * 1024,
    return503OnClosing: true,
    routerOptions: { maxParamLength: 500 },
    frameworkErrors: (error, request, reply) => sendProblem(reply, toProblem(error, request))
  }).withTypeProvider<ZodTypeProvider>()
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  app.removeContentTypeParser('text/plain')

  app.setErrorHandler((error, request, reply) => {
    const problem = toProblem(error as Parameters<typeof toProblem>[0], request)
    if (problem.status >= 500) request.log.error({ err: error }, 'request failed')
    return sendProblem(reply, problem)
  })
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

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'parascan', version: options.version ?? '0.1.0', description: API_DESCRIPTION },
      tags: [
        { name: 'scans', description: 'Submit scans, follow them and read their results.' },
        { name: 'operations', description: 'Health, readiness and Prometheus metrics.' }
      ]
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject
  })
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' })

  await app.register(scanRoutes, { service: options.service })
  if (options.adminQueues !== undefined && options.adminQueues.length > 0) await app.register(adminQueues, { queues: options.adminQueues })
  await app.register(operationsRoutes, {
    registry: options.metrics.registry,
    beforeScrape: options.beforeScrape,
    readiness: async () => {
      try {
        await options.readiness()
      } catch (error) {
        throw new ServiceUnavailableError((error as Error).message)
      }
    }
  })
  return app
}
