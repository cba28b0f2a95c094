import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { problemSchema } from '../schemas/problem.js'
import { withTimeout } from '../src/http/with-timeout.js'
import { ServiceUnavailableError } from '../src/errors.js'

const healthSchema = z.object({ status: z.literal('ok') })

const PROBE_TIMEOUT_MS = 2000

/** /healthz, /readyz and /metrics, outside the /v1 scope: probes and Prometheus need no API key. */
export const operationsRoutes: FastifyPluginAsyncZod = async (app) => {
  const { metrics } = app
  const { metricsToken } = app.auth

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
    try {
      await withTimeout(Promise.all([app.store.ping(), app.queue.ping()]), PROBE_TIMEOUT_MS, 'queue or store unreachable')
      app.checkPool()
    } catch (error) {
      throw error instanceof ServiceUnavailableError ? error : new ServiceUnavailableError((error as Error).message)
    }
    return { status: 'ok' as const }
  })

  app.get('/metrics', {
    onRequest: metricsToken === undefined ? [] : [metricsToken],
    schema: {
      operationId: 'getMetrics',
      tags: ['operations'],
      summary: 'Prometheus metrics',
      produces: ['text/plain'],
      ...(metricsToken === undefined ? {} : { security: [{ metricsToken: [] }] }),
      response: { 200: z.string().describe('Prometheus text exposition format.') }
    }
  }, async (request, reply) => {
    try {
      metrics.queueCounts(await withTimeout(app.queue.counts(), PROBE_TIMEOUT_MS, 'queue unreachable'))
    } catch (error) {
      request.log.warn({ err: error }, 'queue job counts not refreshed')
    }
    const text = await metrics.registry.metrics()
    return reply.type(metrics.registry.contentType).send(text)
  })
}
