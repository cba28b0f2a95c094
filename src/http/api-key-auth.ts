import { timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { findTenant, sha256, type ApiKeyEntry } from '../config/api-keys.js'
import { UnauthorizedError, withHeaders } from '../errors.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The tenant of the request's API key; undefined when API keys are off. */
    tenant?: string
  }
}

export interface ApiKeyAuthOptions {
  /** Keys of the tenants; unset leaves the scan API and the queue dashboard open. Default: unset. */
  apiKeys?: readonly ApiKeyEntry[]
  /** Token that GET /metrics requires; unset leaves it open. Default: unset. */
  metricsToken?: string
  /** Route prefixes that need an API key. Default: ['/v1', '/admin/queues']. */
  protectedPrefixes?: readonly string[]
}

const BEARER = /^Bearer +([^\s]+) *$/i

function presented (request: FastifyRequest): string | undefined {
  const header = request.headers.authorization
  if (typeof header !== 'string') return undefined
  return BEARER.exec(header)?.[1]
}

function unauthorized (realm: string, present: boolean): Error {
  const challenge = present ? `Bearer realm="${realm}", error="invalid_token"` : `Bearer realm="${realm}"`
  const reason = present ? 'the bearer token is not valid' : 'send Authorization: Bearer <key>'
  return withHeaders(new UnauthorizedError(reason), { 'www-authenticate': challenge })
}

/** An onRequest hook: API keys for the scan API and the queue dashboard, a token for /metrics; /healthz, /readyz and /docs stay open. */
export function apiKeyAuth (options: ApiKeyAuthOptions): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const prefixes = options.protectedPrefixes ?? ['/v1', '/admin/queues']
  const metricsDigest = options.metricsToken === undefined ? undefined : sha256(options.metricsToken)
  return async (request) => {
    const route = request.routeOptions.url ?? request.url.split('?')[0]
    if (route === '/metrics') {
      if (metricsDigest === undefined) return
      const token = presented(request)
      if (token === undefined) throw unauthorized('parascan-metrics', false)
      if (!timingSafeEqual(sha256(token), metricsDigest)) throw unauthorized('parascan-metrics', true)
      return
    }
    if (options.apiKeys === undefined || !prefixes.some((prefix) => route === prefix || route.startsWith(`${prefix}/`))) return
    const key = presented(request)
    if (key === undefined) throw unauthorized('parascan', false)
    const tenant = findTenant(options.apiKeys, key)
    if (tenant === undefined) throw unauthorized('parascan', true)
    request.tenant = tenant
  }
}
