import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger'
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod'
import { isDeepStrictEqual } from 'node:util'

export interface OpenApiOptions {
  /** Version in `info`. Required. */
  version: string
  /**
   * API keys are set: the apiKey security scheme is listed. Routes that need one say so in their schema.
   * @defaultValue false
   */
  apiKeys?: boolean
  /**
   * A metrics token is set: the metricsToken security scheme is listed.
   * @defaultValue false
   */
  metricsToken?: boolean
}

type Json = Record<string, unknown>
type Responses = Record<string, Json>

const DESCRIPTION = `Parallel scans as a service. Submit a scan (a source of records plus a pipeline of CEL filters, maps and
processors, or an aggregate), poll its status, and page through its results while it runs or download them as NDJSON.
Every error is application/problem+json with a stable \`code\`; validation errors list each bad field in \`errors\`.`

const PROBLEM_MEDIA_TYPE = 'application/problem+json'
const REF = '#/components/schemas/'

const ERROR_DESCRIPTIONS: Record<string, string> = {
  400: 'The request is invalid; `errors` names each bad field.',
  401: 'No API key, or one that is not known (`WWW-Authenticate` says how to send one).',
  404: 'No such scan (another tenant\'s scans are not found either).',
  409: 'The scan is not in a state that allows this.',
  413: 'The request body is larger than the instance\'s body limit.',
  415: 'The request body is not `application/json`.',
  422: 'The request is well-formed but cannot be carried out.',
  429: 'Too many requests, or too many queued scans: retry after `Retry-After` seconds.',
  503: 'Redis is unreachable, or the instance is not ready: retry after `Retry-After` seconds.'
}

interface OperationDoc {
  responses: Record<string, string>
  headers?: Record<string, string[]>
  /** Media types a response has besides the one its zod schema gives. */
  content?: Record<string, Record<string, Json>>
}

const NDJSON = {
  schema: { type: 'string', description: 'One JSON value per line, each followed by `\\n`: every stored result, in source order for ordered scans.' }
}

/** What each operation's responses mean, beyond ERROR_DESCRIPTIONS, and the headers they carry. */
const OPERATIONS: Record<string, OperationDoc> = {
  submitScan: {
    responses: {
      202: 'The scan was queued; for a repeated `Idempotency-Key` with the same body, the first scan with its current status.',
      400: 'The scan is invalid: a bad field, a CEL expression that does not compile or cannot work on the source\'s records (a metric that cannot give a number included), an unknown processor or bad params, a path outside the data directory, ' +
        'or the `Idempotency-Key` header sent more than once. `errors` names each.',
      422: 'The `Idempotency-Key` was used before with another body, the source file cannot be read, or an inline record holds a number out of the range of a double (such as `1e400`; `errors` names its path).'
    },
    headers: { 202: ['Location'] }
  },
  listScans: { responses: { 200: 'A page of status documents, newest first.' } },
  getScan: {
    responses: { 200: 'The status document. While the scan is queued or running, `Retry-After` says when to poll again.' },
    headers: { 200: ['Retry-After'] }
  },
  getScanResults: {
    responses: {
      200: 'A page of results (`application/json`), or with `Accept: application/x-ndjson` every stored result of a finished scan, one JSON value ' +
        'per line, with `Scan-Status` and `Results-Count`. `Retry-After` is set on a page that reached the last stored result while the scan ' +
        'is queued or running (more can come).',
      409: 'NDJSON was asked for while the scan is queued or running (read pages, or wait until it finishes), or the cursor belongs to an ' +
        'attempt that another instance replaced (read again from the first page).'
    },
    headers: { 200: ['Retry-After', 'Scan-Status', 'Results-Count'] },
    content: { 200: { 'application/x-ndjson': NDJSON } }
  },
  cancelScan: {
    responses: {
      202: 'Cancel requested: a queued scan is cancelled at once, a running one shortly after. The status document as it is now.',
      409: 'The scan has already finished.'
    }
  },
  deleteScan: {
    responses: { 204: 'The scan and its results are deleted.', 409: 'The scan is queued or running: cancel it first.' }
  },
  listProcessors: { responses: { 200: 'Every processor a pipeline step can name, with the JSON Schema of its params.' } },
  getHealth: { responses: { 200: 'The process is alive.' } },
  getReadiness: { responses: { 200: 'The queue and the store are reachable and the worker threads started.', 503: 'Not ready: the problem says what is missing.' } },
  getMetrics: { responses: { 200: 'Prometheus text exposition format.', 401: 'No PARASCAN_METRICS_TOKEN, or a wrong one.' } }
}

const HEADERS: Record<string, Json> = {
  'Retry-After': { description: 'Seconds to wait before asking again.', schema: { type: 'integer', minimum: 0 } },
  Location: { description: 'Path of the scan\'s status document.', schema: { type: 'string' } },
  'Scan-Status': { description: 'NDJSON only: the status of the finished scan; `failed` and `cancelled` mean the results are partial.', schema: { type: 'string' } },
  'Results-Count': { description: 'NDJSON only: how many lines (results) the response holds.', schema: { type: 'integer', minimum: 0 } },
  'WWW-Authenticate': { description: 'How to authenticate: `Bearer`.', schema: { type: 'string' } }
}

function headerRefs (names: string[]): Json {
  return Object.fromEntries(names.map((name) => [name, { $ref: `#/components/headers/${name}` }]))
}

function describeResponses (operationId: string, responses: Responses): void {
  const doc = OPERATIONS[operationId]
  for (const [code, response] of Object.entries(responses)) {
    const description = doc?.responses[code] ?? ERROR_DESCRIPTIONS[code]
    if (description !== undefined) response.description = description
    const names = [...(doc?.headers?.[code] ?? [])]
    if (code === '429' || code === '503') names.push('Retry-After')
    if (code === '401') names.push('WWW-Authenticate')
    if (names.length > 0) response.headers = { ...(response.headers as Json | undefined), ...headerRefs(names) }
    const content = response.content as Record<string, Json> | undefined
    const extra = doc?.content?.[code]
    if (extra !== undefined) response.content = { ...content, ...extra }
    if (Number(code) >= 400 && content?.['application/json'] !== undefined) {
      response.content = { [PROBLEM_MEDIA_TYPE]: content['application/json'] }
    }
  }
}

function walk (value: unknown, visit: (node: Json) => void): void {
  if (Array.isArray(value)) {
    for (const item of value) walk(item, visit)
  } else if (typeof value === 'object' && value !== null) {
    visit(value as Json)
    for (const child of Object.values(value)) walk(child, visit)
  }
}

function schemaRefs (value: unknown): Set<string> {
  const names = new Set<string>()
  walk(value, (node) => {
    if (typeof node.$ref === 'string' && node.$ref.startsWith(REF)) names.add(node.$ref.slice(REF.length))
  })
  return names
}

function reachable (paths: unknown, schemas: Record<string, unknown>): Set<string> {
  const seen = new Set<string>()
  const pending = [...schemaRefs(paths)]
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    if (seen.has(name)) continue
    seen.add(name)
    pending.push(...schemaRefs(schemas[name]))
  }
  return seen
}

/**
 * A `default` in a component makes generators (openapi-typescript) type the field as always
 * present, which is true of responses only: in request shapes it moves into the description.
 */
function defaultsIntoDescriptions (schema: unknown): void {
  if (typeof schema !== 'object' || schema === null) return
  const node = schema as Json
  if ('default' in node) {
    const text = `Default: ${JSON.stringify(node.default)}.`
    node.description = typeof node.description === 'string' ? `${node.description} ${text}` : text
    delete node.default
  }
  for (const child of Object.values((node.properties ?? {}) as Json)) defaultsIntoDescriptions(child)
  for (const key of ['items', 'additionalProperties', 'not']) defaultsIntoDescriptions(node[key])
  for (const key of ['anyOf', 'oneOf', 'allOf', 'prefixItems']) for (const child of (node[key] ?? []) as unknown[]) defaultsIntoDescriptions(child)
}

/**
 * One component per shape: zod gives every registered schema an input (`XInput`) and an output
 * (`X`) form. Where only the input form is used (request bodies) it takes the plain name (and its
defaults go into descriptions); where
 * both are used and equal, they are one; unused components are dropped.
 */
function oneSchemaPerShape (doc: Json): void {
  const components = doc.components as { schemas?: Record<string, unknown> }
  const schemas = components.schemas ?? {}
  const used = reachable(doc.paths, schemas)
  const rename = new Map<string, string>()
  for (const name of used) {
    if (!name.endsWith('Input')) continue
    const plain = name.slice(0, -'Input'.length)
    if (!used.has(plain) || isDeepStrictEqual(schemas[name], schemas[plain])) rename.set(name, plain)
  }
  for (const [name, plain] of rename) if (!used.has(plain)) defaultsIntoDescriptions(schemas[name])
  const renamed: Record<string, unknown> = {}
  for (const [name, schema] of Object.entries(schemas)) {
    if (!used.has(name)) continue
    const target = rename.get(name) ?? name
    if (rename.has(name) || renamed[target] === undefined) renamed[target] = schema
  }
  walk(doc, (node) => {
    if (typeof node.$ref !== 'string' || !node.$ref.startsWith(REF)) return
    const target = rename.get(node.$ref.slice(REF.length))
    if (target !== undefined) node.$ref = REF + target
  })
  components.schemas = Object.fromEntries(Object.entries(renamed).sort(([a], [b]) => a.localeCompare(b)))
}

function refine (doc: Json, options: OpenApiOptions): Json {
  doc.servers = [{ url: '/', description: 'The instance that serves this document.' }]
  const paths = doc.paths as Record<string, Record<string, Json>>
  for (const operations of Object.values(paths)) {
    for (const operation of Object.values(operations)) {
      describeResponses(String(operation.operationId), operation.responses as Responses)
      operation.security ??= []
    }
  }
  const components = doc.components as Json
  components.headers = HEADERS
  const schemes = components.securitySchemes as Json
  if (options.apiKeys !== true) delete schemes.apiKey
  if (options.metricsToken !== true) delete schemes.metricsToken
  oneSchemaPerShape(doc)
  return doc
}

/** Options of @fastify/swagger: the OpenAPI 3.1 document of the routes, from their zod schemas. */
export function openApiOptions (options: OpenApiOptions): FastifyDynamicSwaggerOptions {
  return {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'parascan', version: options.version, description: DESCRIPTION, license: { name: 'MIT', identifier: 'MIT' } },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'An API key of PARASCAN_API_KEYS; it names the tenant.' },
          metricsToken: { type: 'http', scheme: 'bearer', description: 'The metrics token of the instance.' }
        }
      },
      tags: [
        { name: 'scans', description: 'Submit scans, follow them and read their results.' },
        { name: 'processors', description: 'The processors that pipeline steps can use.' },
        { name: 'operations', description: 'Health, readiness and Prometheus metrics.' }
      ]
    },
    transform: jsonSchemaTransform,
    transformObject: (input) => refine(jsonSchemaTransformObject(input) as Json, options) as ReturnType<typeof jsonSchemaTransformObject>
  }
}
