import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from '../helpers/free-port.js'

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url))
const EXAMPLE = fileURLToPath(new URL('../../examples/processors/redact-fields.js', import.meta.url))

interface LogLine { level: number, msg: string, processors?: string[] }

/** A PROCESSORS_DIR outside the repository, as an operator lays it out: its own package.json and node_modules. */
function processorsDir (): string {
  const dir = mkdtempSync(join(tmpdir(), 'parascan-processors-'))
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ private: true, type: 'module', dependencies: { 'tiny-slug': '1.0.0' } }))
  const pkg = join(dir, 'node_modules', 'tiny-slug')
  mkdirSync(pkg, { recursive: true })
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'tiny-slug', version: '1.0.0', type: 'module', exports: './index.js' }))
  writeFileSync(join(pkg, 'index.js'), 'export function slug (text) { return text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") }\n')
  writeFileSync(join(dir, 'slugify.js'), [
    'import { slug } from "tiny-slug"',
    'export const name = "slugify"',
    'export const description = "Adds a slug of a text field."',
    'export const schema = (z) => z.object({ field: z.string().min(1).describe("Field to slug.") }).strict()',
    'export function process (record, params) { return { ...record, slug: slug(String(record[params.field])) } }'
  ].join('\n'))
  copyFileSync(EXAMPLE, join(dir, 'redact-fields.js'))
  writeFileSync(join(dir, 'needs-missing.js'), 'import "left-pad-that-is-not-installed"\nexport const name = "needs_missing"\n')
  return dir
}

test('a PROCESSORS_DIR outside the repository with its own dependencies: its plug-ins load and run, the example needs no zod, start-up logs what loaded and what not', async () => {
  const dir = processorsDir()
  const cwd = mkdtempSync(join(tmpdir(), 'parascan-cwd-'))
  const port = await freePort()
  const child = spawn(process.execPath, [MAIN], {
    cwd,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', PROCESSORS_DIR: dir, DATA_DIR: cwd, REDIS_URL: '', PROTO_PARALLEL_MAX_WORKERS: '2' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
  const base = `http://127.0.0.1:${port}`
  try {
    let ready = false
    for (let i = 0; i < 400 && !ready; i++) {
      ready = await fetch(`${base}/readyz`).then((r) => r.ok, () => false)
      if (!ready) await new Promise((resolve) => setTimeout(resolve, 50))
    }
    assert.ok(ready, stdout)

    const submitted = await fetch(`${base}/v1/scans`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        source: { type: 'inline', records: [{ title: 'Hello, World!', email: 'a@example.org' }, { title: 'Plug-ins: outside' }] },
        pipeline: [{ processor: 'slugify', params: { field: 'title' } }, { processor: 'redact_fields', params: { fields: ['email'] } }],
        ordered: true
      })
    })
    assert.equal(submitted.status, 202, await submitted.clone().text())
    const { id } = await submitted.json() as { id: string }
    let status = ''
    for (let i = 0; i < 400 && status !== 'succeeded'; i++) {
      const doc = await (await fetch(`${base}/v1/scans/${id}`)).json() as { status: string, error: unknown }
      status = doc.status
      assert.ok(status !== 'failed', JSON.stringify(doc.error))
      if (status !== 'succeeded') await new Promise((resolve) => setTimeout(resolve, 25))
    }
    const page = await (await fetch(`${base}/v1/scans/${id}/results`)).json() as { items: unknown[] }
    assert.deepEqual(page.items, [
      { title: 'Hello, World!', email: '***', slug: 'hello-world' },
      { title: 'Plug-ins: outside', slug: 'plug-ins-outside' }
    ])

    const listed = await fetch(`${base}/v1/processors`)
    assert.equal(listed.status, 200)
    const { items } = await listed.json() as { items: Array<{ name: string, description: string | null, builtin: boolean, params_schema: Record<string, unknown> | null }> }
    assert.deepEqual(items.map(({ name, builtin }) => [name, builtin]), [['synthetic', true], ['redact_fields', false], ['slugify', false]])
    const [synthetic, redact, slugify] = items
    assert.match(synthetic.description ?? '', /CPU time/)
    assert.equal((synthetic.params_schema?.properties as Record<string, { default?: unknown }>).cost_us.default, 10)
    assert.equal(redact.description, 'Replaces the named top-level fields of object records with a mask; other records pass through.')
    assert.deepEqual(redact.params_schema?.required, ['fields'])
    assert.equal(redact.params_schema?.additionalProperties, false)
    assert.deepEqual(Object.keys(redact.params_schema?.properties as object), ['fields', 'mask', 'drop_unmatched'])
    assert.deepEqual(slugify.params_schema?.properties, { field: { type: 'string', minLength: 1, description: 'Field to slug.' } })
    assert.ok(!JSON.stringify(items).includes(dir), 'the list names no server path')
    const openapi = await (await fetch(`${base}/docs/json`)).json() as { paths: Record<string, { get?: { operationId: string, responses: Record<string, { content: Record<string, { schema: { $ref?: string } }> }> } }>, components: { schemas: Record<string, unknown> } }
    const operation = openapi.paths['/v1/processors'].get!
    assert.equal(operation.operationId, 'listProcessors')
    assert.equal(operation.responses['200'].content['application/json'].schema.$ref, '#/components/schemas/ProcessorList')
    assert.ok(openapi.components.schemas.Processor !== undefined)

    const missing = await fetch(`${base}/v1/scans`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ source: { type: 'range', start: 0, end: 1 }, pipeline: [{ processor: 'needs_missing' }] })
    })
    assert.equal(missing.status, 400)
    const problem = await missing.text()
    assert.match(problem, /unknown processor \\"needs_missing\\"; known: synthetic, redact_fields, slugify/)
    assert.ok(!problem.includes(dir), 'the answer names no server path')
  } finally {
    child.kill('SIGTERM')
    assert.equal(await exited, 0)
    rmSync(dir, { recursive: true, force: true })
    rmSync(cwd, { recursive: true, force: true })
  }
  const lines = stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as LogLine)
  const loaded = lines.find((line) => line.processors !== undefined)
  assert.ok(loaded !== undefined, stdout)
  assert.equal(loaded.level, 30)
  assert.deepEqual(loaded.processors, ['synthetic', 'redact_fields (redact-fields.js)', 'slugify (slugify.js)'])
  const left = lines.filter((line) => line.level === 40 && line.msg.startsWith('plug-in left out: '))
  assert.equal(left.length, 1, stdout)
  assert.match(left[0].msg, new RegExp(`needs-missing\\.js cannot be loaded: Cannot find package 'left-pad-that-is-not-installed'`))
})
