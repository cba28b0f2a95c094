import { STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod'
import type { FieldError } from '../errors.js'
import type { Problem } from '../../schemas/problem.js'

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8'

const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'PARASCAN_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PARASCAN_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_JSON_BODY: 'PARASCAN_MALFORMED_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'PARASCAN_MALFORMED_JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'PARASCAN_BAD_REQUEST',
  FST_ERR_CTP_INVALID_TYPE: 'PARASCAN_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_TYPE: 'PARASCAN_UNSUPPORTED_MEDIA_TYPE'
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

/** Turns any error into RFC 9457 problem details; client errors keep their status, everything else is a 500. */
export function toProblem (error: FastifyError & { errors?: FieldError[] }, request: FastifyRequest): Problem {
  if (hasZodFastifySchemaValidationErrors(error)) {
    const errors = validationErrors(error)
    return {
      type: 'urn:parascan:problem:PARASCAN_INVALID_REQUEST',
      title: STATUS_CODES[400]!,
      status: 400,
      detail: `Invalid request ${(error as { validationContext?: string }).validationContext ?? 'body'}: ${errors.map((e) => `${e.path === '' ? '(root)' : e.path}: ${e.message}`).join('; ')}`,
      code: 'PARASCAN_INVALID_REQUEST',
      instance: request.url.split('?')[0],
      errors
    }
  }
  const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500
  const code = FASTIFY_CODES[error.code] ?? (typeof error.code === 'string' && error.code.startsWith('PARASCAN_') ? error.code : status >= 500 ? 'PARASCAN_INTERNAL' : `PARASCAN_HTTP_${status}`)
  const problem: Problem = {
    type: `urn:parascan:problem:${code}`,
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail: status >= 500 && !error.code?.startsWith('PARASCAN_') ? 'Internal server error' : code === 'PARASCAN_UNSUPPORTED_MEDIA_TYPE' ? unsupportedMediaType(request) : error.message,
    code,
    instance: request.url.split('?')[0]
  }
  if (Array.isArray(error.errors)) problem.errors = error.errors
  return problem
}

export function sendProblem (reply: FastifyReply, problem: Problem): FastifyReply {
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem))
}

/** The not-found handler: a 404 problem naming the method and path. */
export function sendNotFound (request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const path = request.url.split('?')[0]
  return sendProblem(reply, {
    type: 'urn:parascan:problem:PARASCAN_NOT_FOUND',
    title: 'Not Found',
    status: 404,
    detail: `No route ${request.method} ${path}`,
    code: 'PARASCAN_NOT_FOUND',
    instance: path
  })
}
