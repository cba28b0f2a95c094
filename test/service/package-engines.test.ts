import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import semver from 'semver'

const root = new URL('../../../', import.meta.url)

interface LockedPackage { version?: string, engines?: Record<string, string> | string[], dev?: boolean, optional?: boolean }

test('every locked dependency accepts the lowest Node the project states (npm ci prints no EBADENGINE)', async () => {
  const manifest = JSON.parse(await readFile(new URL('package.json', root), 'utf8')) as { engines: { node: string } }
  const lock = JSON.parse(await readFile(new URL('package-lock.json', root), 'utf8')) as { packages: Record<string, LockedPackage> }
  const lowest = semver.minVersion(manifest.engines.node)
  assert.ok(lowest !== null, manifest.engines.node)
  assert.ok(semver.satisfies(process.version, manifest.engines.node), `this Node (${process.version}) is outside engines ${manifest.engines.node}`)
  const refused: string[] = []
  let checked = 0
  for (const [path, locked] of Object.entries(lock.packages)) {
    if (path === '' || locked.engines === undefined || Array.isArray(locked.engines) || locked.engines.node === undefined) continue
    checked++
    if (!semver.satisfies(lowest, locked.engines.node)) refused.push(`${path}@${locked.version ?? '?'} needs node ${locked.engines.node}`)
  }
  assert.ok(checked > 50, `only ${checked} packages state engines`)
  assert.deepEqual(refused, [], `engines.node is ${manifest.engines.node}`)
})
