import type { FastifyRequest } from 'fastify'
import { InvalidRequestError, withFieldErrors } from '../errors.js'

/**
 * A preValidation hook that refuses a request carrying the header `name` (lower case) more than
 * once: Node would join the values with ", " into one that no client sent.
 */
export function singleHeader (name: string): (request: FastifyRequest) => Promise<void> {
  return async (request) => {
    const raw = request.raw.rawHeaders
    let count = 0
    for (let i = 0; i < raw.length; i += 2) if (raw[i].toLowerCase() === name) count++
    if (count < 2) return
    const message = `sent ${count} times; send it once`
    throw withFieldErrors(new InvalidRequestError(`headers: ${name}: ${message}`), [{ path: name, message }])
  }
}
