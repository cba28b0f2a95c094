import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { luaScript } from '../../src/store/lua-script.js'
import { SCAN_SCRIPTS } from '../../src/store/scan-scripts.js'
import { PARTITION_SCRIPTS } from '../../src/store/partition-scripts.js'
import { STORAGE_SCRIPTS } from '../../src/store/redis-storage-charges.js'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const dir = `${root}src/store/lua/`
const scripts = readdirSync(dir).filter((name) => name.endsWith('.lua')).map((name) => name.slice(0, -'.lua'.length))
const specs = [...Object.values(SCAN_SCRIPTS), ...Object.values(PARTITION_SCRIPTS), ...Object.values(STORAGE_SCRIPTS)]

const header = (text: string): string => text.split(']]')[0]

test('every Lua script has a header naming each of its KEYS and ARGV and its output', () => {
  assert.ok(scripts.length > 0)
  for (const name of scripts) {
    const text = readFileSync(`${dir}${name}.lua`, 'utf8')
    assert.match(text, /^--\[\[\n[\s\S]*Input:[\s\S]*KEYS\[1\][\s\S]*Output:[\s\S]*\]\]\n/, name)
    const described = header(text)
    const restFrom = Number(/ARGV\[(\d+)\.\.\]/.exec(described)?.[1] ?? Infinity)
    for (const [, n] of text.matchAll(/KEYS\[(\d+)\]/g)) assert.match(described, new RegExp(`KEYS\\[${n}\\] `), `${name}: KEYS[${n}] is used but not described`)
    for (const [, n] of text.matchAll(/ARGV\[(\d+)\]/g)) {
      assert.ok(Number(n) >= restFrom || new RegExp(`ARGV\\[${n}\\] `).test(described), `${name}: ARGV[${n}] is used but not described`)
    }
  }
})

test('every script is called with the KEYS and ARGV its header names, no more and no fewer', () => {
  assert.deepEqual(specs.map((spec) => spec.file).sort(), [...scripts].sort(), 'a script file without a command, or a command without a file')
  for (const spec of specs) {
    const described = header(readFileSync(`${dir}${spec.file}.lua`, 'utf8'))
    assert.equal(described.match(/^\s+KEYS\[\d+\] /gm)?.length ?? 0, spec.keys.length, `${spec.file}: KEYS`)
    assert.equal(described.match(/^\s+ARGV\[\d+\] /gm)?.length ?? 0, spec.args.length, `${spec.file}: ARGV`)
    assert.equal(/ARGV\[(\d+)\.\.\]/.exec(described)?.[1], spec.rest === undefined ? undefined : String(spec.args.length + 1), `${spec.file}: ARGV[n..]`)
    assert.equal(new Set([...spec.keys, ...spec.args, spec.rest]).size, spec.keys.length + spec.args.length + 1, `${spec.file}: a name given twice`)
  }
})

test('scripts load from dist/ with their includes in place', () => {
  for (const name of scripts) {
    const file = readFileSync(`${dir}${name}.lua`, 'utf8')
    const text = luaScript(name)
    const includes = [...file.matchAll(/^--- @include "([\w/-]+)"$/gm)].map(([, included]) => included)
    if (includes.length === 0) assert.equal(text, file, name)
    assert.doesNotMatch(text, /@include/, name)
    for (const included of includes) {
      const code = readFileSync(`${dir}${included}.lua`, 'utf8').split(']]\n')[1].trimEnd()
      assert.ok(code.length > 0 && text.includes(code), `${name}: ${included}`)
    }
  }
  assert.match(luaScript('scan-begin'), /^local function dequeue \(key, prefix, id\)$/m)
})

test('the container image carries the Lua scripts', () => {
  assert.match(readFileSync(`${root}Dockerfile`, 'utf8'), /^COPY --from=build \/app\/src\/store\/lua \.\/src\/store\/lua$/m)
})
