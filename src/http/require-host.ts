import type { FastifyReply, FastifyRequest } from 'fastify'
import { BadRequestError } from '../errors.js'

/** An onRequest hook: an HTTP/1.1 request without a Host header is a 400 problem (RFC 9112, 3.2). */
export async function requireHost (request: FastifyRequest, _reply: FastifyReply): Promise<void> {
  if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) throw new BadRequestError('An HTTP/1.1 request needs a Host header')
}
