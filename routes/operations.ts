import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { Registry } from 'prom-client'
import { problemSchema } from '../schemas/problem.js'

export interface OperationsRoutesOptions {
  /** Metrics served at /metrics. Required. */
  registry: Registry
  /** Throws when the instance cannot serve scans (queue, store or pool down). Required. */
  readiness: () => Promise<void>
  /** Refreshes gauges that are read on demand (queue job counts). Default: none. */
  beforeScrape?: () => Promise<void>
}

const healthSchema = z.object({ status: z.literal('ok') })

export const operationsRoutes: FastifyPluginAsyncZod<OperationsRoutesOptions> = async (app, options) => {
  app.get('/healthz', {
    schema: { operationId: 'getHealth', tags: ['operations'], summary: 'Liveness', response: { 200: healthSchema } }
  }, async () => ({ status: 'ok' as const }))

  app.get('/readyz', {
    schema: {
      operationId: 'getReadiness',
      tags: ['operations'],
      summary: 'Readiness: queue and store reachable, pool started',
      response: { 200: healthSchema, 503: problemSchema }
    }
  }, async () => {
    await options.readiness()
    return { status: 'ok' as const }
  })

  app.get('/metrics', {
    schema: {
      operationId: 'getMetrics',
      tags: ['operations'],
      summary: 'Prometheus metrics',
      produces: ['text/plain'],
      response: { 200: z.string().describe('Prometheus text exposition format.') }
    }
  }, async (_request, reply) => {
    await options.beforeScrape?.().catch(() => {})
    const text = await options.registry.metrics()
    return reply.type(options.registry.contentType).send(text)
  })
}
