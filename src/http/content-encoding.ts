import type { FastifyReply, FastifyRequest } from 'fastify'
import { UnsupportedMediaTypeError } from '../errors.js'

/** An onRequest hook: a body sent with a Content-Encoding other than identity is a 415, not a JSON error. */
export async function refuseContentEncoding (request: FastifyRequest, _reply: FastifyReply): Promise<void> {
  const encoding = request.headers['content-encoding']
  if (encoding === undefined) return
  const value = String(encoding).trim().toLowerCase()
  if (value === '' || value === 'identity') return
  throw new UnsupportedMediaTypeError(`Content-Encoding ${value.slice(0, 40)} is not supported; send the body uncompressed`)
}
