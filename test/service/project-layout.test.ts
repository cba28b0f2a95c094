import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../../', import.meta.url))

function filesUnder (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    return entry.isDirectory() ? filesUnder(path) : [path]
  })
}

function testFiles (dir: string): string[] {
  return filesUnder(dir).filter((path) => path.endsWith('.test.ts')).map((path) => relative(root, path))
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

/** Lines a source file may have without a reason written at its top. */
const MAX_LINES = 300

/** A long file's reason at its top: a block comment (not the doc comment of its first export) that says why it is longer. */
function givesLengthReason (text: string): boolean {
  const header = /^\s*\/\*(?!\*)([\s\S]*?)\*\//.exec(text) ?? /^\s*--\[\[([\s\S]*?)\]\]/.exec(text)
  return header !== null && /\blonger\b/i.test(header[1])
}

test(`every file in src/, workers/, routes/ and schemas/ over ${MAX_LINES} lines says at its top why it is longer`, () => {
  const files = ['src', 'workers', 'routes', 'schemas'].flatMap((dir) => filesUnder(join(root, dir)))
  assert.ok(files.includes(join(root, 'src', 'index.ts')), 'the check reads the sources')
  const long = files.map((path) => ({ file: relative(root, path), text: readFileSync(path, 'utf8') }))
    .filter(({ text }) => text.split('\n').length - (text.endsWith('\n') ? 1 : 0) > MAX_LINES)
  const unexplained = long.filter(({ text }) => !givesLengthReason(text)).map(({ file }) => file)
  assert.deepEqual(unexplained, [], `split these into parts with one job each, or open each with a comment /* Longer than … because … */`)
})
