import { timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { findTenant, sha256, type ApiKeyEntry } from '../config/api-keys.js'
import { UnauthorizedError, withHeaders } from '../errors.js'
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

/** An onRequest hook for a scope whose every route needs an API key; it sets `request.tenant`. */
export function requireApiKey (apiKeys: readonly ApiKeyEntry[]): OnRequestHook {
  return async (request, reply) => {
    const key = presented(request)
    if (key === undefined) return unauthorized(request, reply, 'parascan', false)
    const tenant = findTenant(apiKeys, key)
    if (tenant === undefined) return unauthorized(request, reply, 'parascan', true)
    request.tenant = tenant
  }
}

/** An onRequest hook that requires one bearer token (GET /metrics). */
export function requireToken (token: string, realm: string): OnRequestHook {
  const digest = sha256(token)
  return async (request, reply) => {
    const presentedToken = presented(request)
    if (presentedToken === undefined) return unauthorized(request, reply, realm, false)
    if (!timingSafeEqual(sha256(presentedToken), digest)) return unauthorized(request, reply, realm, true)
  }
}
