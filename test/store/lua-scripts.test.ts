import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { luaScript } from '../../src/store/lua-script.js'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const dir = `${root}src/store/lua/`

test('every Lua script has a header naming its keys, arguments and output, and loads from dist/', () => {
  const files = readdirSync(dir).filter((name) => name.endsWith('.lua'))
  assert.ok(files.length > 0)
  for (const file of files) {
    const text = luaScript(file.slice(0, -'.lua'.length))
    assert.equal(text, readFileSync(dir + file, 'utf8'))
    assert.match(text, /^--\[\[\n[\s\S]*Input:[\s\S]*KEYS\[1\][\s\S]*Output:[\s\S]*\]\]\n/, file)
    for (const [, n] of text.matchAll(/KEYS\[(\d+)\]/g)) assert.match(text.split(']]')[0], new RegExp(`KEYS\\[${n}\\] `), `${file}: KEYS[${n}] is used but not described`)
  }
})

test('the container image carries the Lua scripts', () => {
  assert.match(readFileSync(`${root}Dockerfile`, 'utf8'), /^COPY --from=build \/app\/src\/store\/lua \.\/src\/store\/lua$/m)
})
