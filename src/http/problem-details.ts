import { STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod'
import {
  BadRequestError, BodyTooLargeError, ClientError, HeadersTooLargeError, InternalError, InvalidRequestError, MalformedJsonError, NotFoundError,
  RateLimitedError, RequestTimeoutError, ServiceUnavailableError, UnauthorizedError, UnsupportedMediaTypeError, UrlTooLongError, withFieldErrors,
  type FieldError
} from '../errors.js'
import { isServiceCode } from '../error-codes.js'
import type { Problem } from '../../schemas/problem.js'

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8'

/** An answer echoes what it was sent only this far: a request of many or long bad fields gets a short problem. */
const MAX_FIELD_ERRORS = 20
const MAX_DETAIL_CHARS = 2000
const MAX_FIELD_CHARS = 500

/** `text` cut to `max` characters, saying how many more there were. */
function bounded (text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`
}

/** The first MAX_FIELD_ERRORS field errors, each cut to MAX_FIELD_CHARS. */
function boundedErrors (errors: FieldError[]): FieldError[] {
  return errors.slice(0, MAX_FIELD_ERRORS).map((e) => ({ path: bounded(e.path, MAX_FIELD_CHARS), message: bounded(e.message, MAX_FIELD_CHARS) }))
}

/** An error of a catalogue: a stable code and the status of its answer. */
export type CatalogueError = Error & { code: string, statusCode?: number, errors?: FieldError[] }

/** The catalogue error of each status that Fastify, Node or a plug-in answers with an error of its own. */
const BY_STATUS: Readonly<Record<number, (detail: string) => CatalogueError>> = {
  400: (detail) => new BadRequestError(detail),
  401: (detail) => new UnauthorizedError(detail),
  404: (detail) => new NotFoundError(detail),
  408: (detail) => new RequestTimeoutError(detail),
  413: (detail) => new BodyTooLargeError(detail),
  414: (detail) => new UrlTooLongError(detail),
  415: (detail) => new UnsupportedMediaTypeError(detail),
  429: (detail) => new RateLimitedError(detail),
  431: () => new HeadersTooLargeError(),
  503: () => new ServiceUnavailableError('this instance cannot answer now')
}

interface ZodIssueLike {
  code?: string
  path?: PropertyKey[]
  message?: string
  errors?: ZodIssueLike[][]
}

/** `['pipeline', 0, 'filter']` → `pipeline[0].filter`. */
export function fieldPath (segments: readonly PropertyKey[]): string {
  let out = ''
  for (const segment of segments) {
    if (typeof segment === 'number' || (typeof segment === 'string' && /^\d+$/.test(segment))) out += `[${String(segment)}]`
    else out += out === '' ? String(segment) : `.${String(segment)}`
  }
  return out
}

/** Flattens a union's issues to the branch that got furthest (deepest paths, fewest issues). */
function flatten (issue: ZodIssueLike, base: PropertyKey[]): FieldError[] {
  const path = [...base, ...(issue.path ?? [])]
  if (issue.code === 'invalid_union' && Array.isArray(issue.errors) && issue.errors.length > 0) {
    const branches = issue.errors.map((branch) => branch.flatMap((inner) => flatten(inner, path)))
    const score = (errors: FieldError[]): number => Math.max(...errors.map((e) => e.path.length)) * 100 - errors.length
    const best = branches.filter((b) => b.length > 0).sort((a, b) => score(b) - score(a))[0]
    if (best !== undefined) return best
  }
  return [{ path: fieldPath(path), message: issue.message ?? 'Invalid value' }]
}

function validationErrors (error: FastifyError): FieldError[] {
  const out: FieldError[] = []
  for (const entry of error.validation ?? []) {
    const e = entry as { instancePath?: string, message?: string, params?: ZodIssueLike }
    const segments = (e.instancePath ?? '').split('/').filter((s) => s !== '')
    out.push(...flatten({ ...e.params, path: segments, message: e.message }, []))
  }
  return out
}

function unsupportedMediaType (request: FastifyRequest): string {
  const type = request.headers['content-type']
  return `Unsupported media type ${type === undefined ? '(no Content-Type)' : JSON.stringify(type.slice(0, 100))}: send the body as application/json`
}

/**
 * The catalogue error that `error` stands for: itself when it has a catalogue code, else the one of
 * its status (messages of unknown server errors are not shown), else PARASCAN_INTERNAL.
 */
export function catalogueError (error: FastifyError & { errors?: FieldError[] }, request: FastifyRequest): CatalogueError {
  if (hasZodFastifySchemaValidationErrors(error)) {
    const errors = validationErrors(error)
    const where = (error as { validationContext?: string }).validationContext ?? 'body'
    const shown = boundedErrors(errors)
    const more = errors.length > shown.length ? `; and ${errors.length - shown.length} more` : ''
    return withFieldErrors(new InvalidRequestError(`${where}: ${shown.map((e) => `${e.path === '' ? '(root)' : e.path}: ${e.message}`).join('; ')}${more}`), errors)
  }
  const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500
  if (isServiceCode(error.code)) return Object.assign(error, { statusCode: status })
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_TYPE':
    case 'FST_ERR_CTP_EMPTY_TYPE':
      return new UnsupportedMediaTypeError(unsupportedMediaType(request))
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new MalformedJsonError(error.message)
  }
  const known = BY_STATUS[status]
  if (known !== undefined) return known(error.message)
  if (status >= 500) return new InternalError()
  return Object.assign(new ClientError(error.message), { statusCode: status })
}

/** Turns any error into RFC 9457 problem details with a code of the catalogue. */
export function toProblem (error: FastifyError & { errors?: FieldError[] }, request: FastifyRequest): Problem {
  return problemOf(catalogueError(error, request), request.url.split('?')[0])
}

export function problemOf (error: CatalogueError, instance?: string): Problem {
  const status = error.statusCode ?? 500
  const problem: Problem = {
    type: `urn:parascan:problem:${error.code}`,
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail: bounded(error.message, MAX_DETAIL_CHARS),
    code: error.code
  }
  if (instance !== undefined) problem.instance = bounded(instance, MAX_FIELD_CHARS)
  if (Array.isArray(error.errors)) problem.errors = boundedErrors(error.errors)
  return problem
}

export function sendProblem (reply: FastifyReply, problem: Problem): FastifyReply {
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem))
}

/** The not-found handler: a 404 problem naming the method and path. */
export function sendNotFound (request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendProblem(reply, problemOf(new NotFoundError(`No route ${request.method} ${request.url.split('?')[0]}`), request.url.split('?')[0]))
}
