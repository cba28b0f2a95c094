import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../../', import.meta.url))

function testFiles (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return testFiles(path)
    return entry.name.endsWith('.test.ts') ? [relative(root, path)] : []
  })
}

test('every test file sits in a directory that an npm test script runs', () => {
  const scripts = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts as Record<string, string>
  const globs = [scripts.test, scripts['test:container']].join(' ').match(/dist\/test\/[\w/-]+\/\*\.test\.js/g) ?? []
  const dirs = globs.map((glob) => glob.slice('dist/'.length, -'*.test.js'.length))
  const stray = testFiles(join(root, 'test')).filter((file) => !dirs.some((dir) => file.startsWith(dir) && !file.slice(dir.length).includes('/')))
  assert.deepEqual(stray, [], `test files outside ${dirs.join(', ')}: move them to the directory that mirrors their src/ folder`)
})

test('every test file the documentation names exists', () => {
  const docs = ['README.md', ...readdirSync(join(root, 'docs')).map((name) => join('docs', name))]
  const missing = docs.flatMap((doc) => [...readFileSync(join(root, doc), 'utf8').matchAll(/test\/[\w/.-]+\.test\.ts/g)]
    .map((match) => match[0]).filter((path) => !existsSync(join(root, path))).map((path) => `${doc}: ${path}`))
  assert.deepEqual(missing, [])
})
