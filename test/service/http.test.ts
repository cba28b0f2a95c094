import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import type { FastifyInstance } from 'fastify'
import { build, waitFor } from '../helpers/service-harness.js'

const app: FastifyInstance = await build({ after }, { consume: false, env: { PARASCAN_BODY_LIMIT: '4096' } })

const seedScan = {
  source: { type: 'range', start: 0, end: 100000 },
  pipeline: [{ filter: 'record % 2 == 0' }, { map: 'record * 2' }]
}

function assertProblem (response: { statusCode: number, headers: Record<string, unknown>, json(): any }, status: number, code: string): any {
  assert.equal(response.statusCode, status)
  assert.match(String(response.headers['content-type']), /^application\/problem\+json/)
  const body = response.json()
  assert.equal(body.status, status)
  assert.equal(body.code, code)
  assert.equal(typeof body.title, 'string')
  assert.equal(typeof body.detail, 'string')
  assert.equal(body.type, `urn:parascan:problem:${code}`)
  return body
}

test('POST /v1/scans queues a scan: 202, Location, links', async () => {
  const response = await app.inject({ method: 'POST', url: '/v1/scans', payload: seedScan })
  assert.equal(response.statusCode, 202)
  const body = response.json()
  assert.equal(body.status, 'queued')
  assert.match(body.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  assert.equal(response.headers.location, `/v1/scans/${body.id}`)
  assert.deepEqual(body.links, { self: `/v1/scans/${body.id}`, results: `/v1/scans/${body.id}/results` })
  assert.ok(!Number.isNaN(Date.parse(body.created_at)))

  const status = await app.inject({ method: 'GET', url: body.links.self })
  assert.equal(status.statusCode, 200)
  assert.equal(status.headers['retry-after'], '1')
  const doc = status.json()
  assert.equal(doc.status, 'queued')
  assert.equal(doc.progress.total, 100000)
  assert.equal(doc.progress.processed, 0)
  assert.equal(doc.error, null)
  assert.equal(doc.metrics, null)
  assert.equal(doc.expires_at, null)
  assert.equal('attempt' in doc, false)
})

test('validation errors name each field', async () => {
  const bad = await app.inject({ method: 'POST', url: '/v1/scans', payload: { source: { type: 'range', start: 'x', end: 10 } } })
  const body = assertProblem(bad, 400, 'PARASCAN_INVALID_REQUEST')
  assert.deepEqual(body.errors.map((e: { path: string }) => e.path), ['source.start'])

  const cel = await app.inject({ method: 'POST', url: '/v1/scans', payload: { ...seedScan, pipeline: [{ filter: 'record %% 2' }] } })
  const celBody = assertProblem(cel, 400, 'PARASCAN_INVALID_SCAN')
  assert.equal(celBody.errors[0].path, 'pipeline[0].filter')

  const step = await app.inject({ method: 'POST', url: '/v1/scans', payload: { ...seedScan, pipeline: [{ filter: 'true', extra: 1 }] } })
  const stepBody = assertProblem(step, 400, 'PARASCAN_INVALID_REQUEST')
  assert.ok(stepBody.errors.every((e: { path: string }) => e.path.startsWith('pipeline[0]')), JSON.stringify(stepBody.errors))

  const missing = await app.inject({ method: 'POST', url: '/v1/scans', payload: {} })
  assert.equal(assertProblem(missing, 400, 'PARASCAN_INVALID_REQUEST').errors[0].path, 'source')

  const unknownKey = await app.inject({ method: 'POST', url: '/v1/scans', payload: { ...seedScan, surprise: true } })
  assertProblem(unknownKey, 400, 'PARASCAN_INVALID_REQUEST')
})

test('parallel overrides must stay within the instance limits', async () => {
  const tooMany = await app.inject({ method: 'POST', url: '/v1/scans', payload: { ...seedScan, parallel: { max_workers: 3 } } })
  assert.deepEqual(assertProblem(tooMany, 400, 'PARASCAN_INVALID_SCAN').errors.map((e: { path: string }) => e.path), ['parallel.max_workers'])

  const inverted = await app.inject({ method: 'POST', url: '/v1/scans', payload: { ...seedScan, parallel: { min_chunk_size: 500, max_chunk_size: 200 } } })
  assert.equal(assertProblem(inverted, 400, 'PARASCAN_INVALID_SCAN').errors[0].path, 'parallel.min_chunk_size')

  const ok = await app.inject({ method: 'POST', url: '/v1/scans', payload: { ...seedScan, parallel: { max_workers: 2, scheduler: 'thread_pool' } } })
  assert.equal(ok.statusCode, 202)
})

test('records nested too deeply are a 400 naming the record', async () => {
  const deep = `{"source":{"type":"inline","records":[1,${'['.repeat(1900)}${']'.repeat(1900)}]}}`
  for (const headers of [{ 'content-type': 'application/json' }, { 'content-type': 'application/json', 'idempotency-key': 'deep' }]) {
    const response = await app.inject({ method: 'POST', url: '/v1/scans', payload: deep, headers })
    assert.deepEqual(assertProblem(response, 400, 'PARASCAN_INVALID_SCAN').errors, [{ path: 'source.records[1]', message: 'nested deeper than 128 levels' }])
  }
  const fine = `{"source":{"type":"inline","records":[${'['.repeat(100)}${']'.repeat(100)}]}}`
  assert.equal((await app.inject({ method: 'POST', url: '/v1/scans', payload: fine, headers: { 'content-type': 'application/json' } })).statusCode, 202)
})

test('file paths outside DATA_DIR are a 400 at submit time', async () => {
  const response = await app.inject({ method: 'POST', url: '/v1/scans', payload: { source: { type: 'file', path: '../../etc/passwd', format: 'ndjson' } } })
  assert.equal(response.statusCode, 400)
  assert.match(String(response.headers['content-type']), /^application\/problem\+json/)
  assert.ok(response.json().errors === undefined || response.json().errors[0].path.startsWith('source'))
})

test('transport errors: 415, 413, malformed JSON, unknown route', async () => {
  const unsupported = await app.inject({ method: 'POST', url: '/v1/scans', payload: 'source=range', headers: { 'content-type': 'text/plain' } })
  assertProblem(unsupported, 415, 'PARASCAN_UNSUPPORTED_MEDIA_TYPE')
  assert.equal(unsupported.json().detail, 'Unsupported media type "text/plain": send the body as application/json')
  assertProblem(await app.inject({ method: 'POST', url: '/v1/scans', payload: { source: { type: 'inline', records: 'x'.repeat(5000).split('') } } }), 413, 'PARASCAN_BODY_TOO_LARGE')
  assertProblem(await app.inject({ method: 'POST', url: '/v1/scans', payload: '{"source": ', headers: { 'content-type': 'application/json' } }), 400, 'PARASCAN_MALFORMED_JSON')
  assertProblem(await app.inject({ method: 'POST', url: '/v1/scans', payload: '', headers: { 'content-type': 'application/json' } }), 400, 'PARASCAN_MALFORMED_JSON')
  assertProblem(await app.inject({ method: 'GET', url: '/v2/nothing' }), 404, 'PARASCAN_NOT_FOUND')
  assertProblem(await app.inject({ method: 'GET', url: '/v1/scans/does-not-exist' }), 404, 'PARASCAN_SCAN_NOT_FOUND')
  assertProblem(await app.inject({ method: 'GET', url: '/v1/scans/%E0%A4%A' }), 400, 'PARASCAN_BAD_REQUEST')
  assertProblem(await app.inject({ method: 'GET', url: `/v1/scans/${'a'.repeat(300)}` }), 400, 'PARASCAN_INVALID_REQUEST')
  assertProblem(await app.inject({ method: 'GET', url: `/v1/scans/${'a'.repeat(3000)}` }), 414, 'PARASCAN_URL_TOO_LONG')
  assertProblem(await app.inject({ method: 'POST', url: '/v1/scans', payload: seedScan, headers: { 'idempotency-key': 'k'.repeat(256) } }), 400, 'PARASCAN_INVALID_REQUEST')
  assertProblem(await app.inject({ method: 'GET', url: '/v1/scans/does-not-exist/results' }), 404, 'PARASCAN_SCAN_NOT_FOUND')
  assertProblem(await app.inject({ method: 'POST', url: '/v1/scans/does-not-exist/cancel' }), 404, 'PARASCAN_SCAN_NOT_FOUND')
  assertProblem(await app.inject({ method: 'DELETE', url: '/v1/scans/does-not-exist' }), 404, 'PARASCAN_SCAN_NOT_FOUND')
})

test('Idempotency-Key: same body gives the first scan, another body is a 422', async () => {
  const headers = { 'idempotency-key': `key-${Math.random()}` }
  const first = await app.inject({ method: 'POST', url: '/v1/scans', payload: seedScan, headers })
  const again = await app.inject({ method: 'POST', url: '/v1/scans', payload: { pipeline: seedScan.pipeline, source: { end: 100000, start: 0, type: 'range' } }, headers })
  assert.equal(first.statusCode, 202)
  assert.equal(again.statusCode, 202)
  assert.equal(again.json().id, first.json().id)
  assertProblem(await app.inject({ method: 'POST', url: '/v1/scans', payload: { ...seedScan, ordered: true }, headers }), 422, 'PARASCAN_IDEMPOTENCY_CONFLICT')
  const other = await app.inject({ method: 'POST', url: '/v1/scans', payload: seedScan })
  assert.notEqual(other.json().id, first.json().id)
})

test('results: limit checks, empty pages of a queued scan, bad cursors', async () => {
  const { id } = (await app.inject({ method: 'POST', url: '/v1/scans', payload: seedScan })).json()
  assertProblem(await app.inject({ method: 'GET', url: `/v1/scans/${id}/results?limit=0` }), 400, 'PARASCAN_INVALID_REQUEST')
  assertProblem(await app.inject({ method: 'GET', url: `/v1/scans/${id}/results?limit=-5` }), 400, 'PARASCAN_INVALID_REQUEST')
  assertProblem(await app.inject({ method: 'GET', url: `/v1/scans/${id}/results?limit=abc` }), 400, 'PARASCAN_INVALID_REQUEST')
  assertProblem(await app.inject({ method: 'GET', url: `/v1/scans/${id}/results?cursor=%%%` }), 400, 'PARASCAN_INVALID_CURSOR')
  assert.equal((await app.inject({ method: 'GET', url: `/v1/scans/${id}/results?limit=99999999999999999999999` })).statusCode, 200)
  const page = await app.inject({ method: 'GET', url: `/v1/scans/${id}/results?limit=99999` })
  assert.equal(page.statusCode, 200)
  assert.match(String(page.headers['content-type']), /^application\/json/)
  const body = page.json()
  assert.deepEqual(body.items, [])
  assert.equal(body.complete, false)
  assert.equal(typeof body.next_cursor, 'string')
})

test('cancel a queued scan: 202 then 409; delete: 204 then 404; results of a cancelled scan: empty and partial', async () => {
  const { id } = (await app.inject({ method: 'POST', url: '/v1/scans', payload: seedScan })).json()
  assertProblem(await app.inject({ method: 'DELETE', url: `/v1/scans/${id}` }), 409, 'PARASCAN_SCAN_ACTIVE')
  const cancelled = await app.inject({ method: 'POST', url: `/v1/scans/${id}/cancel` })
  assert.equal(cancelled.statusCode, 202)
  assert.equal(cancelled.json().status, 'cancelled')
  assert.equal(cancelled.json().error.code, 'PARASCAN_SCAN_CANCELLED')
  assert.ok(Date.parse(cancelled.json().expires_at) > Date.now())
  const status = await app.inject({ method: 'GET', url: `/v1/scans/${id}` })
  assert.equal(status.headers['retry-after'], undefined)
  assertProblem(await app.inject({ method: 'POST', url: `/v1/scans/${id}/cancel` }), 409, 'PARASCAN_SCAN_FINISHED')
  const results = await app.inject({ method: 'GET', url: `/v1/scans/${id}/results` })
  assert.equal(results.statusCode, 200)
  assert.deepEqual(results.json(), { items: [], complete: true, partial: true })
  assert.equal(results.headers['retry-after'], undefined)
  const removed = await app.inject({ method: 'DELETE', url: `/v1/scans/${id}` })
  assert.equal(removed.statusCode, 204)
  assert.equal(removed.body, '')
  assertProblem(await app.inject({ method: 'GET', url: `/v1/scans/${id}` }), 404, 'PARASCAN_SCAN_NOT_FOUND')
})

test('GET /v1/scans lists newest first, filters by status, pages with a cursor', async () => {
  const ids: string[] = []
  for (let i = 0; i < 5; i++) ids.push((await app.inject({ method: 'POST', url: '/v1/scans', payload: seedScan })).json().id)
  await app.inject({ method: 'POST', url: `/v1/scans/${ids[1]}/cancel` })
  const seen: string[] = []
  let cursor: string | undefined
  do {
    const response = await app.inject({ method: 'GET', url: `/v1/scans?limit=2${cursor === undefined ? '' : `&cursor=${cursor}`}` })
    assert.equal(response.statusCode, 200)
    const body = response.json()
    assert.ok(body.items.length <= 2)
    seen.push(...body.items.map((item: { id: string }) => item.id))
    cursor = body.next_cursor
  } while (cursor !== undefined)
  assert.equal(new Set(seen).size, seen.length)
  assert.deepEqual(seen.filter((id) => ids.includes(id)), [...ids].reverse())
  assert.deepEqual([...seen].sort().reverse(), seen)

  const cancelled = (await app.inject({ method: 'GET', url: '/v1/scans?status=cancelled' })).json()
  assert.ok(cancelled.items.some((item: { id: string }) => item.id === ids[1]))
  assert.ok(cancelled.items.every((item: { status: string }) => item.status === 'cancelled'))
  assertProblem(await app.inject({ method: 'GET', url: '/v1/scans?status=lost' }), 400, 'PARASCAN_INVALID_REQUEST')
  assertProblem(await app.inject({ method: 'GET', url: '/v1/scans?limit=0' }), 400, 'PARASCAN_INVALID_REQUEST')
})

test('OpenAPI 3.1 document, Swagger UI, health and metrics', async () => {
  const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json()
  assert.equal(doc.openapi, '3.1.0')
  for (const path of ['/v1/scans', '/v1/scans/{id}', '/v1/scans/{id}/results', '/v1/scans/{id}/cancel', '/healthz', '/readyz', '/metrics']) {
    assert.ok(doc.paths[path], `missing ${path}`)
  }
  assert.ok(doc.paths['/v1/scans'].post.requestBody.content['application/json'].schema)
  assert.ok(doc.paths['/v1/scans'].post.responses['202'])
  assert.ok(doc.paths['/v1/scans/{id}'].delete.responses['204'])
  assert.deepEqual(undescribed(doc), [])
  assert.deepEqual(doc.paths['/v1/scans'].post.requestBody.content['application/json'].schema, { $ref: '#/components/schemas/ScanRequest' })
  assert.deepEqual(doc.components.schemas.ScanRequest.examples[0].source, { type: 'range', start: 0, end: 100000 })
  assert.equal(doc.components.schemas.ScanStatus.examples[0].status, 'running')
  const ui = await app.inject({ method: 'GET', url: '/docs' })
  assert.ok(ui.statusCode === 200 || ui.statusCode === 302)
  assert.deepEqual((await app.inject({ method: 'GET', url: '/healthz' })).json(), { status: 'ok' })
  await waitFor(async () => (await app.inject({ method: 'GET', url: '/readyz' })).statusCode === 200 ? true : undefined)
  const metrics = await app.inject({ method: 'GET', url: '/metrics' })
  assert.equal(metrics.statusCode, 200)
  assert.match(metrics.body, /parascan_http_request_duration_seconds_bucket\{[^}]*route="\/v1\/scans\/:id"/)
  assert.match(metrics.body, /# TYPE parascan_scans_total counter/)
  assert.match(metrics.body, /process_cpu_user_seconds_total/)
  assert.doesNotMatch(metrics.body, /route="\/v1\/scans\/[0-9a-f]{8}-/)
})

type JsonSchema = { description?: string, $ref?: string, properties?: Record<string, JsonSchema>, items?: JsonSchema, additionalProperties?: JsonSchema, oneOf?: JsonSchema[], anyOf?: JsonSchema[] }

/** Every property of every schema in the document, and every parameter, has a description. */
function undescribed (doc: any): string[] {
  const missing: string[] = []
  const walk = (schema: JsonSchema | undefined, path: string): void => {
    if (schema === undefined || typeof schema !== 'object') return
    for (const [key, value] of Object.entries(schema.properties ?? {})) {
      const described = value.description !== undefined || value.$ref !== undefined || (value.oneOf ?? value.anyOf)?.every((v) => v.description !== undefined)
      if (described !== true) missing.push(`${path}.${key}`)
      walk(value, `${path}.${key}`)
    }
    walk(schema.items, `${path}[]`)
    if (typeof schema.additionalProperties === 'object') walk(schema.additionalProperties, `${path}{}`)
    for (const branch of [...(schema.oneOf ?? []), ...(schema.anyOf ?? [])]) walk(branch, path)
  }
  for (const [name, schema] of Object.entries(doc.components.schemas as Record<string, JsonSchema>)) walk(schema, name)
  for (const [path, operations] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
    for (const [method, operation] of Object.entries(operations)) {
      if (operation.summary === undefined) missing.push(`${method} ${path}: summary`)
      walk(operation.requestBody?.content['application/json'].schema, `${method} ${path} body`)
      for (const parameter of operation.parameters ?? []) if (parameter.description === undefined) missing.push(`${method} ${path} ${parameter.name}`)
    }
  }
  return missing
}
