import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { problemSchema } from '../schemas/problem.js'
import { requireToken } from '../src/http/api-key-auth.js'
import { withTimeout } from '../src/http/with-timeout.js'
import { ServiceUnavailableError } from '../src/errors.js'

const healthSchema = z.object({ status: z.literal('ok') })

const PROBE_TIMEOUT_MS = 2000

/** /healthz, /readyz and /metrics, outside the /v1 scope: probes and Prometheus need no API key. */
export const operationsRoutes: FastifyPluginAsyncZod = async (app) => {
  const { metrics, config } = app

  app.get('/healthz', {
    schema: { tags: ['operations'], summary: 'Liveness', response: { 200: healthSchema } }
  }, async () => ({ status: 'ok' as const }))

  app.get('/readyz', {
    schema: {
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
    onRequest: config.metricsToken === undefined ? [] : [requireToken(config.metricsToken, 'parascan-metrics')],
    schema: {
      tags: ['operations'],
      summary: 'Prometheus metrics',
      produces: ['text/plain'],
      ...(config.metricsToken === undefined ? {} : { security: [{ metricsToken: [] }] }),
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
