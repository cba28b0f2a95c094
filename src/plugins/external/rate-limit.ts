import fp from 'fastify-plugin'
import fastifyRateLimit from '@fastify/rate-limit'
import { RateLimitedError } from '../../errors.js'

/**
 * PARASCAN_RATE_LIMIT requests per tenant (per client address without API keys) and window, on the
 * routes of the scope that registers it, after that scope's API-key hook. With REDIS_URL the counters
 * live in Redis, shared by every instance.
 */
export default fp(async (app) => {
  const { config, redis } = app
  if (config.rateLimit === 0) return
  await app.register(fastifyRateLimit, {
    global: true,
    max: config.rateLimit,
    timeWindow: config.rateLimitWindowMs,
    redis: redis?.requests,
    nameSpace: `${config.keyPrefix}:rate-limit:`,
    skipOnError: true,
    keyGenerator: (request) => request.tenant === undefined ? `ip:${request.ip}` : `tenant:${request.tenant}`,
    errorResponseBuilder: (_request, context) => new RateLimitedError(`at most ${context.max} requests per ${app.config.rateLimitWindowMs / 1000} s; retry in ${context.after}`)
  })
}, { name: 'rate-limit', dependencies: ['config', 'redis'] })
