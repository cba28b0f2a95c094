import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { DEPRECATED_VARIABLES, loadServiceConfig, variableDocs } from '../../src/config/service-config.js'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const page = readFileSync(`${root}docs/configuration.md`, 'utf8')

/** The rows of the table under `heading`: first cell (without backticks) → the other cells. */
function table (heading: string): Map<string, string[]> {
  const section = page.slice(page.indexOf(`## ${heading}\n`))
  const rows = section.split('\n').filter((line) => line.startsWith('| `'))
  const end = section.indexOf('\n## ', 1)
  const inSection = end === -1 ? rows : rows.filter((line) => section.indexOf(line) < end)
  return new Map(inSection.map((line) => {
    const cells = line.split(' | ').map((cell) => cell.replace(/^\| /, '').replace(/ \|$/, ''))
    return [cells[0].replaceAll('`', ''), cells.slice(1)]
  }))
}

test('docs/configuration.md lists every variable of the environment schema with its default and accepted values, and nothing else', () => {
  const rows = table('The service')
  const docs = variableDocs()
  assert.deepEqual([...rows.keys()].sort(), Object.keys(docs).sort())
  for (const [name, doc] of Object.entries(docs)) {
    const [fallback, accepted, meaning] = rows.get(name)!
    assert.equal(fallback, doc.default === undefined ? 'unset' : `\`${doc.default}\``, name)
    assert.equal(accepted, doc.range, name)
    assert.ok(meaning.trim().length > 0, `${name} says what it does`)
  }
})

test('docs/configuration.md lists the earlier names and every PROTO_PARALLEL_* variable of the engine', () => {
  assert.deepEqual(Object.fromEntries([...table('Earlier names')].map(([old, [now]]) => [old, now.replaceAll('`', '')])), DEPRECATED_VARIABLES)
  const engine = [...readFileSync(`${root}src/parallel/parallel-config.ts`, 'utf8').matchAll(/env: '(PROTO_PARALLEL_\w+)'/g)].map((match) => match[1])
  assert.deepEqual([...table('The engine').keys()].sort(), engine.sort())
})

test('earlier names are still read, with one deprecation line each; the new name wins when both are set', () => {
  const old = loadServiceConfig({ DATA_DIR: '/srv/data', RETENTION: '2h', METRICS_TOKEN: 'token-of-metrics', BODY_LIMIT: '4096' })
  assert.equal(old.dataDir, '/srv/data')
  assert.equal(old.retentionMs, 2 * 3600_000)
  assert.equal(old.metricsToken, 'token-of-metrics')
  assert.equal(old.bodyLimit, 4096)
  assert.deepEqual(old.deprecated.sort(), ['BODY_LIMIT', 'DATA_DIR', 'METRICS_TOKEN', 'RETENTION'].map((name) => `${name} is deprecated: use PARASCAN_${name}`))
  const both = loadServiceConfig({ DATA_DIR: '/old', PARASCAN_DATA_DIR: '/new' })
  assert.equal(both.dataDir, '/new')
  assert.deepEqual(both.deprecated, ['DATA_DIR is deprecated and ignored: PARASCAN_DATA_DIR is set'])
  assert.deepEqual(loadServiceConfig({ PARASCAN_DATA_DIR: '/new' }).deprecated, [])
  assert.throws(() => loadServiceConfig({ BODY_LIMIT: 'lots' }), /Invalid environment variable BODY_LIMIT: /)
  assert.throws(() => loadServiceConfig({ PARASCAN_BODY_LIMIT: 'lots' }), /Invalid environment variable PARASCAN_BODY_LIMIT: /)
})
