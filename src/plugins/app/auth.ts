import fp from 'fastify-plugin'
import { authHooks, type AuthHooks } from '../../http/api-key-auth.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** onRequest hooks of the scopes that need a credential: the /v1 API and the dashboard (API key), /metrics (token). */
    auth: AuthHooks
  }
}

export default fp(async (app) => {
  const { config } = app
  app.decorate('auth', authHooks({
    apiKeys: config.apiKeys,
    metricsToken: config.metricsToken,
    failures: { maxFailures: config.authFailureLimit, windowMs: config.authFailureWindowMs }
  }))
}, { name: 'auth', dependencies: ['config'] })
