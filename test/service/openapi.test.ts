import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import openapiTS, { astToString } from 'openapi-typescript'
import { realServer } from '../helpers/service-harness.js'
import type { RunningServer } from '../../src/server.js'

const run = promisify(execFile)
const require = createRequire(import.meta.url)
const REDOCLY = require.resolve('@redocly/cli/bin/cli.js')
const TSC = require.resolve('typescript/bin/tsc')
const METHODS = ['get', 'put', 'post', 'delete', 'patch']

type Doc = {
  servers?: Array<{ url: string }>
  paths: Record<string, Record<string, { operationId?: string, responses: Record<string, { description: string, content?: Record<string, unknown>, headers?: Record<string, unknown> }> }>>
  components: { schemas: Record<string, unknown>, headers?: Record<string, unknown> }
}

function operations (doc: Doc): Array<[string, string, Doc['paths'][string][string]]> {
  return Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).filter(([m]) => METHODS.includes(m)).map(([m, op]) => [m, path, op] as [string, string, typeof op]))
}

async function redoclyErrors (doc: unknown, dir: string): Promise<Array<{ ruleId: string, message: string, severity: string }>> {
  const file = join(dir, `openapi-${Math.random().toString(36).slice(2)}.json`)
  await writeFile(file, JSON.stringify(doc))
  const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' }
  const result = await run(process.execPath, [REDOCLY, 'lint', file, '--extends=recommended', '--format=json'], { env, cwd: dir, maxBuffer: 16 << 20 })
    .catch((error: { stdout: string, code: number }) => ({ stdout: error.stdout, code: error.code }))
  const report = JSON.parse(result.stdout.slice(result.stdout.indexOf('{'))) as { problems: Array<{ ruleId: string, message: string, severity: string }> }
  return report.problems.filter((p) => p.severity === 'error')
}

const CLIENT = `import type { paths, components } from './schema.js'

type ScanRequest = components['schemas']['ScanRequest']
type Accepted = paths['/v1/scans']['post']['responses'][202]['content']['application/json']
type Status = paths['/v1/scans/{id}']['get']['responses'][200]['content']['application/json']
type Page = paths['/v1/scans/{id}/results']['get']['responses'][200]['content']['application/json']
type Problem = paths['/v1/scans/{id}']['get']['responses'][404]['content']['application/problem+json']
type ResultsQuery = NonNullable<paths['/v1/scans/{id}/results']['get']['parameters']['query']>

export async function submit (base: string, body: ScanRequest): Promise<Accepted> {
  const response = await fetch(base + '/v1/scans', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return await response.json() as Accepted
}

export async function everyResult (base: string, id: Accepted['id']): Promise<unknown[]> {
  const items: unknown[] = []
  let query: ResultsQuery = { limit: '500' }
  for (;;) {
    const response = await fetch(base + '/v1/scans/' + id + '/results?' + new URLSearchParams(query as Record<string, string>).toString())
    if (!response.ok) throw new Error(((await response.json()) as Problem).code)
    const page = await response.json() as Page
    items.push(...page.items)
    if (page.complete || page.next_cursor === undefined) return items
    query = { limit: '500', cursor: page.next_cursor }
  }
}

export function summary (status: Status): string {
  const fraction: number = status.progress.fraction
  const finished: string | null = status.finished_at
  const workers: number = status.metrics?.workers.length ?? 0
  return status.status + ' ' + fraction + ' ' + String(finished) + ' ' + workers + ' ' + status.result.count
}

export const request: ScanRequest = {
  source: { type: 'file', path: 'events.ndjson', format: 'ndjson' },
  pipeline: [{ filter: 'record.amount > 10' }, { map: 'record.user' }, { processor: 'synthetic', params: { cost_us: 5 } }],
  aggregate: { group_by: 'record', metrics: { n: { op: 'count' } } },
  parallel: { max_workers: 2, scheduler: 'work_stealing' }
}
`

const WRONG = `import type { components } from './schema.js'
export const wrong: components['schemas']['ScanRequest'] = { source: { type: 'range', start: '0', end: 10 }, ordered: 'yes' }
`

describe('OpenAPI document', () => {
  let server: RunningServer
  let doc: Doc
  let dir: string
  before(async () => {
    server = await realServer()
    doc = await (await fetch(server.url + '/docs/json')).json() as Doc
    dir = await mkdtemp(join(tmpdir(), 'parascan-openapi-'))
  })
  after(async () => {
    await server.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('has servers, an operationId per operation, real descriptions, problem+json errors and its headers', () => {
    assert.ok((doc.servers ?? []).length > 0)
    const ids = operations(doc).map(([, , op]) => op.operationId)
    assert.ok(ids.every((id) => typeof id === 'string' && id.length > 0), JSON.stringify(ids))
    assert.equal(new Set(ids).size, ids.length)
    for (const [method, path, op] of operations(doc)) {
      for (const [code, response] of Object.entries(op.responses)) {
        const where = `${method} ${path} ${code}`
        assert.notEqual(response.description, 'Default Response', where)
        if (Number(code) >= 400) {
          assert.deepEqual(Object.keys(response.content ?? {}), ['application/problem+json'], where)
          assert.deepEqual(response.content?.['application/problem+json'], { schema: { $ref: '#/components/schemas/Problem' } }, where)
        }
        if (code === '429' || code === '503') assert.ok(response.headers?.['Retry-After'], where)
      }
    }
    assert.ok(doc.paths['/v1/scans'].post.responses['202'].headers?.Location)
    assert.ok(doc.paths['/v1/scans/{id}'].get.responses['200'].headers?.['Retry-After'])
    assert.ok(doc.paths['/v1/scans/{id}/results'].get.responses['200'].headers?.['Retry-After'])
    assert.ok(doc.components.headers?.['Retry-After'])
  })

  it('names one schema per shape: ScanRequest, no *Input twins, nothing unused', () => {
    const names = Object.keys(doc.components.schemas)
    assert.deepEqual(names.filter((name) => name.endsWith('Input')), [])
    for (const name of ['ScanRequest', 'ScanStatus', 'ScanAccepted', 'ScanList', 'ResultsPage', 'Problem', 'Source', 'PipelineStep']) assert.ok(names.includes(name), name)
    const text = JSON.stringify(doc)
    for (const name of names) assert.ok(text.includes(`"#/components/schemas/${name}"`), `${name} is not used`)
    for (const [, ref] of text.matchAll(/"#\/components\/schemas\/([^"]+)"/g)) assert.ok(names.includes(ref), `${ref} is not defined`)
  })

  it('describes what the server sends: problem+json, Location, Retry-After', async () => {
    const missing = await fetch(server.url + '/v1/scans/nope')
    assert.match(String(missing.headers.get('content-type')), /^application\/problem\+json/)
    const accepted = await fetch(server.url + '/v1/scans', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ source: { type: 'range', start: 0, end: 10 } }) })
    assert.equal(accepted.status, 202)
    assert.match(String(accepted.headers.get('location')), /^\/v1\/scans\/.+/)
  })

  it('passes Redocly\'s recommended ruleset with no errors, also with API keys and a metrics token', async () => {
    assert.deepEqual(await redoclyErrors(doc, dir), [])
    const secured = await realServer({ PARASCAN_API_KEYS: 'team:secret-key-123456', METRICS_TOKEN: 'metrics-token', PARASCAN_METRICS_TOKEN: 'metrics-token' })
    try {
      const securedDoc = await (await fetch(secured.url + '/docs/json')).json() as Doc
      assert.deepEqual(await redoclyErrors(securedDoc, dir), [])
    } finally {
      await secured.close()
    }
    const broken = structuredClone(doc) as Doc & { servers?: unknown }
    delete broken.servers
    assert.ok((await redoclyErrors(broken, dir)).some((p) => p.ruleId === 'no-empty-servers'))
  })

  it('generates TypeScript types with openapi-typescript that a small client type-checks against', async () => {
    const ast = await openapiTS(doc as unknown as Parameters<typeof openapiTS>[0])
    await writeFile(join(dir, 'schema.ts'), astToString(ast))
    await writeFile(join(dir, 'client.ts'), CLIENT)
    const tsc = (files: string[]): Promise<{ code: number, stdout: string }> => run(process.execPath, [TSC, '--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--skipLibCheck', '--types', 'node', '--typeRoots', join(process.cwd(), 'node_modules/@types'), ...files], { cwd: dir })
      .then((r) => ({ code: 0, stdout: r.stdout }), (error: { code: number, stdout: string }) => ({ code: error.code, stdout: error.stdout }))
    const good = await tsc(['client.ts'])
    assert.equal(good.code, 0, good.stdout)
    await writeFile(join(dir, 'wrong.ts'), WRONG)
    const bad = await tsc(['wrong.ts'])
    assert.notEqual(bad.code, 0)
    assert.match(bad.stdout, /wrong\.ts/)
  })
})
