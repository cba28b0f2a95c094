import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { Queue } from 'bullmq'
import { createBullBoard } from '@bull-board/api'
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter'
import { FastifyAdapter } from '@bull-board/fastify'
import { basicMatches, type AdminCredentials } from '../config/admin-credentials.js'
import { AdminError, RateLimitedError, UnauthorizedError, withHeaders } from '../errors.js'
import { AuthFailureBrake, type AuthFailureBrakeOptions } from './auth-failure-brake.js'
import { setOwnProperty } from '../pipeline/own-property.js'
import { PROBLEM_CONTENT_TYPE, problemOf, sendProblem, toProblem } from './problem-details.js'

export interface AdminQueuesOptions {
  /** BullMQ queues shown on the dashboard. Required. */
  queues: Queue[]
  /**
   * The dashboard's own credential (HTTP Basic); unset leaves it open.
   * @defaultValue unset
   */
  credentials?: AdminCredentials
  /**
   * How many wrong credentials one address may send before it gets 429s.
   * @defaultValue 10 per minute
   */
  failures?: AuthFailureBrakeOptions
  /**
   * URL path of the dashboard.
   * @defaultValue '/admin/queues'
   */
  basePath?: string
  /**
   * Hides the retry, promote, clean and remove buttons: a job's scan record lives in the store, not in the queue.
   * @defaultValue true
   */
  readOnly?: boolean
  /**
   * Title shown in the dashboard's header.
   * @defaultValue 'parascan'
   */
  title?: string
}

/** Removes the stack traces that BullMQ keeps with failed jobs: they show the server's files. */
function withoutStacks (value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutStacks)
  if (value === null || typeof value !== 'object') return value
  const out: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(value)) if (key !== 'stacktrace') setOwnProperty(out, key, withoutStacks(item))
  return out
}

/** The dashboard's answers as the rest of the service gives them: errors as problem+json, no stack traces. */
function cleanAnswer (request: FastifyRequest, reply: FastifyReply, payload: unknown): unknown {
  const type = String(reply.getHeader('content-type') ?? '')
  if (typeof payload !== 'string' || !type.startsWith('application/json')) return payload
  let body: unknown
  try {
    body = JSON.parse(payload)
  } catch {
    return payload
  }
  if (reply.statusCode >= 400) {
    const inner = (body as { error?: unknown, message?: unknown } | null)
    const message = typeof inner?.message === 'string' ? inner.message : typeof inner?.error === 'string' ? inner.error : 'the dashboard could not answer'
    reply.type(PROBLEM_CONTENT_TYPE)
    return JSON.stringify(problemOf(Object.assign(new AdminError(message), { statusCode: reply.statusCode }), request.url.split('?')[0]))
  }
  return JSON.stringify(withoutStacks(body))
}

/** The bull-board queue dashboard behind its own HTTP Basic credential; its routes are left out of the OpenAPI document. */
export const adminQueues: FastifyPluginAsync<AdminQueuesOptions> = async (fastify, options) => {
  const basePath = options.basePath ?? '/admin/queues'
  const serverAdapter = new FastifyAdapter()
  serverAdapter.setBasePath(basePath)
  createBullBoard({
    queues: options.queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode: options.readOnly ?? true })),
    serverAdapter,
    options: { uiConfig: { boardTitle: options.title ?? 'parascan' } }
  })
  const credentials = options.credentials
  const brake = new AuthFailureBrake(options.failures)
  await fastify.register(async (scope) => {
    if (credentials !== undefined) {
      scope.addHook('onRequest', async (request, reply) => {
        const wait = brake.retryAfter(request.ip)
        if (wait > 0) {
          const error = withHeaders(new RateLimitedError(`too many failed authentications from this address; retry in ${wait} s`), { 'retry-after': String(wait) })
          return sendProblem(reply.headers(error.headers), toProblem(error, request))
        }
        if (basicMatches(credentials, request.headers.authorization)) return
        if (request.headers.authorization !== undefined) brake.fail(request.ip)
        const error = withHeaders(new UnauthorizedError('the queue dashboard needs the admin credential (PARASCAN_ADMIN_CREDENTIALS) as HTTP Basic'),
          { 'www-authenticate': 'Basic realm="parascan-admin", charset="UTF-8"' })
        return sendProblem(reply.headers(error.headers), toProblem(error, request))
      })
    }
    scope.addHook('onSend', async (request, reply, payload) => cleanAnswer(request, reply, payload))
    await scope.register(serverAdapter.registerPlugin(), { prefix: basePath })
  })
}
