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

type OnRequestHook = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>

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

export interface AuthOptions {
  /**
   * Keys of the tenants; unset leaves the scan API and the queue dashboard open.
   * @defaultValue unset
   */
  apiKeys?: readonly ApiKeyEntry[]
  /**
   * Token that GET /metrics requires; unset leaves it open.
   * @defaultValue unset
   */
  metricsToken?: string
  /**
   * How many failed keys or tokens one address may send before it gets 429s.
   * @defaultValue 10 per minute
   */
  failures?: AuthFailureBrakeOptions
}

export interface AuthHooks {
  /** For a scope whose every route needs an API key; sets `request.tenant`. Undefined without API keys. */
  apiKey?: OnRequestHook
  /** For GET /metrics. Undefined without a metrics token. */
  metricsToken?: OnRequestHook
}

/** onRequest hooks that check bearer credentials; failures from one address, of either kind, share one brake. */
export function authHooks (options: AuthOptions): AuthHooks {
  const brake = new AuthFailureBrake(options.failures)
  const guard = (realm: string, accept: (request: FastifyRequest, token: string) => boolean): OnRequestHook => async (request, reply) => {
    const wait = brake.retryAfter(request.ip)
    if (wait > 0) {
      const error = withHeaders(new RateLimitedError(`too many failed authentications from this address; retry in ${wait} s`), { 'retry-after': String(wait) })
      return sendProblem(reply.headers(error.headers), toProblem(error, request))
    }
    const token = presented(request)
    if (token === undefined) return unauthorized(request, reply, realm, false)
    if (accept(request, token)) return
    brake.fail(request.ip)
    return unauthorized(request, reply, realm, true)
  }
  const { apiKeys, metricsToken } = options
  const metricsDigest = metricsToken === undefined ? undefined : sha256(metricsToken)
  return {
    apiKey: apiKeys === undefined
      ? undefined
      : guard('parascan', (request, token) => {
        request.tenant = findTenant(apiKeys, token)
        return request.tenant !== undefined
      }),
    metricsToken: metricsDigest === undefined ? undefined : guard('parascan-metrics', (_request, token) => timingSafeEqual(sha256(token), metricsDigest))
  }
}
