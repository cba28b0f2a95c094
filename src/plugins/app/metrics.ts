import fp from 'fastify-plugin'
import { ServiceMetrics } from '../../metrics/service-metrics.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The Prometheus metrics of this instance. */
    metrics: ServiceMetrics
  }
}

export default fp(async (app) => {
  const metrics = new ServiceMetrics({ scanTimeoutMs: app.config.scanTimeoutMs })
  app.decorate('metrics', metrics)
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpRequestDuration.observe({
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status_code: String(reply.statusCode)
    }, reply.elapsedTime / 1000)
  })
}, { name: 'metrics', dependencies: ['config'] })
