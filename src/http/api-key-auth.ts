import { timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { findTenant, sha256, type ApiKeyEntry } from '../config/api-keys.js'
import { RateLimitedError, UnauthorizedError, withHeaders } from '../errors.js'
import { AuthFailureBrake, type AuthFailureBrakeOptions } from './auth-failure-brake.js'
import { sendProblem, toProblem } from './problem-details.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The tenant of the request's API key; undefined when API keys are off. */
    tenant?: string
  }
}

export interface ApiKeyAuthOptions {
  /** Keys of the tenants; unset leaves the scan API open. Default: unset. */
  apiKeys?: readonly ApiKeyEntry[]
  /** Token that GET /metrics requires; unset leaves it open. Default: unset. */
  metricsToken?: string
  /** Route prefixes that need an API key. Default: ['/v1']. */
  protectedPrefixes?: readonly string[]
  /** How many failed keys one address may send before it gets 429s. Default: 10 per minute. */
  failures?: AuthFailureBrakeOptions
}

const BEARER = /^Bearer +([^\s]+) *$/i

function presented (request: FastifyRequest): string | undefined {
  const header = request.headers.authorization
  if (typeof header !== 'string') return undefined
  return BEARER.exec(header)?.[1]
}

/** Answers 401 from the hook itself, so that plug-ins with error handlers of their own (the queue dashboard) answer problem+json too. */
function unauthorized (request: FastifyRequest, reply: FastifyReply, realm: string, present: boolean): FastifyReply {
  const challenge = present ? `Bearer realm="${realm}", error="invalid_token"` : `Bearer realm="${realm}"`
  const reason = present ? 'the bearer token is not valid' : 'send Authorization: Bearer <key>'
  const error = withHeaders(new UnauthorizedError(reason), { 'www-authenticate': challenge })
  return sendProblem(reply.headers(error.headers), toProblem(error, request))
}

/** An onRequest hook: API keys for the scan API, a token for /metrics (the queue dashboard has a credential of its own); /healthz, /readyz and /docs stay open. */
export function apiKeyAuth (options: ApiKeyAuthOptions): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined> {
  const prefixes = options.protectedPrefixes ?? ['/v1']
  const metricsDigest = options.metricsToken === undefined ? undefined : sha256(options.metricsToken)
  const brake = new AuthFailureBrake(options.failures)
  return async (request, reply) => {
    const route = request.routeOptions.url ?? request.url.split('?')[0]
    const isMetrics = route === '/metrics'
    if (isMetrics ? metricsDigest === undefined : options.apiKeys === undefined || !prefixes.some((prefix) => route === prefix || route.startsWith(`${prefix}/`))) return
    const wait = brake.retryAfter(request.ip)
    if (wait > 0) {
      const error = withHeaders(new RateLimitedError(`too many failed authentications from this address; retry in ${wait} s`), { 'retry-after': String(wait) })
      return sendProblem(reply.headers(error.headers), toProblem(error, request))
    }
    const realm = isMetrics ? 'parascan-metrics' : 'parascan'
    const token = presented(request)
    if (token === undefined) return unauthorized(request, reply, realm, false)
    if (isMetrics) {
      if (timingSafeEqual(sha256(token), metricsDigest!)) return
    } else {
      const tenant = findTenant(options.apiKeys!, token)
      if (tenant !== undefined) {
        request.tenant = tenant
        return
      }
    }
    brake.fail(request.ip)
    return unauthorized(request, reply, realm, true)
  }
}
