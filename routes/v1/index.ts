import type { FastifyPluginAsync } from 'fastify'
import rateLimit from '../../src/plugins/external/rate-limit.js'
import { sendNotFound } from '../../src/http/problem-details.js'
import { scanRoutes } from './scans.js'
import { processorRoutes } from './processors.js'

/**
 * The versioned API, registered with `{ prefix: '/v1' }`. With PARASCAN_API_KEYS every request in this
 * scope, unknown paths included, needs a key; the rate limit counts per tenant after the key is checked.
 */
export const v1Routes: FastifyPluginAsync = async (app) => {
  const { apiKey } = app.auth
  if (apiKey !== undefined) {
    app.addHook('onRequest', apiKey)
    app.addHook('onRoute', (route) => { route.schema = { ...route.schema, security: [{ apiKey: [] }] } })
  }
  await app.register(rateLimit)
  app.setNotFoundHandler(sendNotFound)
  await app.register(scanRoutes)
  await app.register(processorRoutes)
}
