import type { FastifyRequest } from 'fastify'
import { MalformedJsonError, UnsupportedMediaTypeError } from '../errors.js'

const utf8 = new TextDecoder('utf-8', { fatal: true })
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]*)/gi

/**
 * Parser of `application/json` bodies. JSON is UTF-8: a body declared in another charset is a 415,
 * and bytes that are not UTF-8 are a 400 instead of characters silently replaced by U+FFFD.
 */
export function parseJsonBody (request: FastifyRequest, body: Buffer, done: (error: Error | null, value?: unknown) => void): void {
  const charset = [...(request.headers['content-type'] ?? '').matchAll(CHARSET)].map((match) => match[1]).find((name) => !/^utf-?8$/i.test(name))
  if (charset !== undefined) {
    done(new UnsupportedMediaTypeError(`Charset ${JSON.stringify(charset.slice(0, 40))} is not supported; send the body as UTF-8 JSON`))
    return
  }
  if (body.length === 0) {
    done(new MalformedJsonError('Body cannot be empty when content-type is set to \'application/json\''))
    return
  }
  let value: unknown
  try {
    value = JSON.parse(utf8.decode(body))
  } catch (error) {
    done(new MalformedJsonError(error instanceof SyntaxError ? 'Body is not valid JSON but content-type is set to \'application/json\'' : 'Body is not valid UTF-8'))
    return
  }
  done(null, value)
}
