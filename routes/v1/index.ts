import type { FastifyPluginAsync } from 'fastify'
import rateLimit from '../../src/plugins/external/rate-limit.js'
import { requireApiKey } from '../../src/http/api-key-auth.js'
import { sendNotFound } from '../../src/http/problem-details.js'
import { scanRoutes } from './scans.js'

/**
 * The versioned API, registered with `{ prefix: '/v1' }`. With PARASCAN_API_KEYS every request in this
 * scope, unknown paths included, needs a key; the rate limit counts per tenant after the key is checked.
 */
export const v1Routes: FastifyPluginAsync = async (app) => {
  const { apiKeys } = app.config
  if (apiKeys !== undefined) {
    app.addHook('onRequest', requireApiKey(apiKeys))
    app.addHook('onRoute', (route) => { route.schema = { ...route.schema, security: [{ apiKey: [] }] } })
  }
  await app.register(rateLimit)
  app.setNotFoundHandler(sendNotFound)
  await app.register(scanRoutes)
}
