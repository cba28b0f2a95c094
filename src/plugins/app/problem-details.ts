import fp from 'fastify-plugin'
import { sendNotFound, sendProblem, toProblem } from '../../http/problem-details.js'
import { isRedisUnavailable } from '../../http/redis-unavailable.js'
import { ServiceUnavailableError, ShuttingDownError } from '../../errors.js'

export interface ProblemDetailsOptions {
  /**
   * Seconds in the Retry-After header of a 503 (Redis unreachable).
   * @defaultValue 2
   */
  unavailableRetryAfterSeconds?: number
}

/**
 * Every error as application/problem+json: thrown errors, unknown routes, Redis being away as a 503
 * with Retry-After, and requests that arrive while the instance shuts down.
 */
export default fp<ProblemDetailsOptions>(async (app, options) => {
  const unavailableRetryAfter = String(options.unavailableRetryAfterSeconds ?? 2)
  app.setErrorHandler((error, request, reply) => {
    const cause = isRedisUnavailable(error) ? new ServiceUnavailableError('Redis is unreachable; try again shortly') : error
    const problem = toProblem(cause as Parameters<typeof toProblem>[0], request)
    if (problem.status >= 500 && problem.status !== 503) request.log.error({ err: error }, 'request failed')
    const headers = (cause as { headers?: unknown }).headers
    if (headers !== null && typeof headers === 'object') reply.headers(headers as Record<string, string>)
    if (problem.status === 503) reply.header('retry-after', unavailableRetryAfter)
    return sendProblem(reply, problem)
  })
  app.setNotFoundHandler(sendNotFound)
  let closing = false
  app.addHook('preClose', async () => { closing = true })
  app.addHook('onRequest', async (_request, reply) => {
    if (!closing) return
    reply.header('connection', 'close')
    throw new ShuttingDownError()
  })
}, { name: 'problem-details' })
