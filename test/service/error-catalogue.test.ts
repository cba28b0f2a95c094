import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as serviceErrors from '../../src/errors.js'
import * as engineErrors from '../../src/parallel/errors.js'
import * as cliErrors from '../../src/cli/errors.js'
import { catalogueEntries, SERVICE_ERRORS } from '../../src/error-codes.js'
import { DEPRECATED_VARIABLES, serviceEnvSchema } from '../../src/config/service-config.js'
import { build } from '../helpers/service-harness.js'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const page = readFileSync(join(root, 'docs/errors.md'), 'utf8')
const CATALOGUES = ['src/errors.ts', 'src/parallel/errors.ts', 'src/cli/errors.ts']

/** The rows of the table under `heading`: code → the other cells. */
function table (heading: string): Map<string, string[]> {
  const start = page.indexOf(`## ${heading}\n`)
  assert.notEqual(start, -1, `docs/errors.md has a section ${heading}`)
  const end = page.indexOf('\n## ', start + 1)
  const section = page.slice(start, end === -1 ? undefined : end)
  return new Map(section.split('\n').filter((line) => line.startsWith('| `')).map((line) => {
    const cells = line.slice(2, -2).split(' | ')
    return [cells[0].replaceAll('`', ''), cells.slice(1)]
  }))
}

function sourceFiles (dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

test('every code the service can send has a row in docs/errors.md, a problem\'s with its HTTP status; no row names a code that does not exist', () => {
  const problems = table('Problem responses')
  const scans = table('Scan errors')
  assert.ok(SERVICE_ERRORS.length > 40, 'the catalogues are read')
  for (const { code, statusCode } of SERVICE_ERRORS) {
    assert.ok(problems.has(code) || scans.has(code), `${code} is documented in docs/errors.md`)
    const row = problems.get(code)
    if (row !== undefined) {
      const statuses = row[0].split(', ')
      assert.ok(statuses.includes(String(statusCode)) || statuses.includes(`${String(statusCode)[0]}xx`), `${code}: status ${row[0]} is ${statusCode}`)
    }
    for (const cells of [row, scans.get(code)]) if (cells !== undefined) assert.ok(cells.every((cell) => cell.trim().length > 0), `${code} says what it means and what to do`)
  }
  const known = new Set(SERVICE_ERRORS.map((entry) => entry.code))
  assert.deepEqual([...problems.keys(), ...scans.keys()].filter((code) => !known.has(code)), [])
})

test('docs/errors.md lists every code of the command-line client with its exit code', () => {
  const rows = table('Command-line client')
  const codes = catalogueEntries(cliErrors).map((entry) => entry.code)
  assert.deepEqual([...rows.keys()].sort(), codes.sort())
  for (const code of codes) assert.equal(rows.get(code)![0], String(cliErrors.EXIT_CODES[code] ?? cliErrors.EXIT.error), code)
})

test('each code belongs to one error of one catalogue', () => {
  const seen = new Map<string, string>()
  for (const [name, catalogue] of Object.entries({ serviceErrors, engineErrors, cliErrors })) {
    for (const [exported, value] of Object.entries(catalogue)) {
      if (typeof value !== 'function' || !(value.prototype instanceof Error)) continue
      const code = (new (value as new () => { code: string })()).code
      assert.match(code, /^PARASCAN_[A-Z_]+$/)
      assert.equal(seen.get(code), undefined, `${code} is made by ${seen.get(code) ?? ''} and by ${name}.${exported}`)
      seen.set(code, `${name}.${exported}`)
    }
  }
})

test('no code is written outside the catalogues: a quoted PARASCAN_ name elsewhere is an environment variable', () => {
  const variables = new Set([...Object.keys(serviceEnvSchema.shape), ...Object.values(DEPRECATED_VARIABLES), 'PARASCAN_URL', 'PARASCAN_API_KEY'])
  const files = ['src', 'workers', 'routes', 'schemas'].flatMap(sourceFiles).filter((file) => !CATALOGUES.includes(relative(root, join(root, file))))
  assert.ok(files.length > 100)
  const bare: string[] = []
  for (const file of files) {
    for (const match of readFileSync(join(root, file), 'utf8').matchAll(/['"`](PARASCAN_[A-Z0-9_]*)(['"`]|\$\{)/g)) {
      if (!variables.has(match[1])) bare.push(`${file}: ${match[0]}`)
    }
  }
  assert.deepEqual(bare, [], 'codes come from the error catalogues (src/errors.ts, src/parallel/errors.ts, src/cli/errors.ts)')
})

test('the OpenAPI document lists every code the service can send as the values of Problem.code, in one Problem schema; no schema is split into input and output twins', async (t) => {
  const app = await build(t)
  const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json() as { components: { schemas: Record<string, { properties?: Record<string, { enum?: string[] }> }> } }
  const problems = Object.keys(doc.components.schemas).filter((name) => /problem/i.test(name))
  assert.deepEqual(problems, ['Problem'])
  assert.deepEqual(Object.keys(doc.components.schemas).filter((name) => /(Input|Output)$/.test(name)), [], 'each schema is one component, whether requests or responses use it')
  assert.deepEqual([...doc.components.schemas.Problem.properties!.code.enum!].sort(), SERVICE_ERRORS.map((entry) => entry.code).sort())
})
