import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { promisify } from 'node:util'
import fc from 'fast-check'
import { createByteSearch } from '../../src/sources/byte-search.js'

describe('byte search', () => {
  for (const simd of [true, false]) {
    it(`writes the address of every byte equal to either value, in order, from any start to any end (${simd ? 'WebAssembly SIMD' : 'Buffer.indexOf'}, property)`, () => {
      const search = createByteSearch(8192, { simd })
      fc.assert(fc.property(
        fc.uint8Array({ maxLength: 600 }).chain((bytes) => fc.tuple(fc.constant(bytes), fc.integer({ min: 0, max: bytes.length }), fc.integer({ min: 0, max: 100 }))),
        fc.constantFrom(0x0a, 0x22, 0x00, 0xff), fc.constantFrom(0x0a, 0x22, 0x2c),
        ([bytes, end, at], a, b) => {
          search.bytes.fill(a, 0, 4096)
          search.bytes.set(bytes, at)
          const expected: number[] = []
          for (let i = at; i < at + end; i++) if (bytes[i - at] === a || bytes[i - at] === b) expected.push(i)
          const count = search.positions(at, at + end, 4096, a, b)
          assert.deepEqual(Array.from(search.words.subarray(1024, 1024 + count)), expected)
        }), { numRuns: 500 })
    })
  }

  it('finds the line ends outside quotes like a byte-at-a-time model, stopping before the chunk of a quote that cannot open, over any run of calls (WebAssembly SIMD, property)', () => {
    const search = createByteSearch(8192)
    assert.ok(search.csvRecordEnds !== undefined)
    const STATE = 6144
    const QUOTE = 0x22
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }).map((b) => b.map((x) => [QUOTE, 0x0a, 0x2c, 0x61, 0x0d][x % 5])), fc.array(fc.nat({ max: 400 })), fc.boolean(), fc.boolean(), fc.nat({ max: 63 }), (bytes, cuts, inside0, mayOpen0, at) => {
      search.bytes.fill(QUOTE, 0, 4096)
      search.bytes.set(bytes, at)
      const end = at + bytes.length
      const bounds = [...new Set([at, ...cuts.map((cut) => at + Math.min(cut, bytes.length)), end])].sort((a, b) => a - b)
      const words = search.words
      words[STATE / 4] = words[STATE / 4 + 1] = inside0 ? -1 : 0
      words[STATE / 4 + 2] = mayOpen0 ? 1 : 0
      words[STATE / 4 + 3] = 0
      let inside = inside0
      let mayOpen = mayOpen0
      for (let i = 0; i + 1 < bounds.length; i++) {
        const [from, to] = [bounds[i], bounds[i + 1]]
        const expected: number[] = []
        let chunk = { ends: 0, inside, mayOpen }
        let stop = -1
        for (let p = from; p < to && stop === -1; p++) {
          if ((p - from) % 64 === 0) chunk = { ends: expected.length, inside, mayOpen }
          const value = search.bytes[p]
          if (value === QUOTE && !inside && !mayOpen) stop = from + Math.floor((p - from) / 64) * 64
          if (value === QUOTE) inside = !inside
          if (value === 0x0a && !inside) expected.push(p)
          mayOpen = value === QUOTE || value === 0x0a || value === 0x2c
        }
        if (stop !== -1) ({ inside, mayOpen } = chunk)
        const count = search.csvRecordEnds!(from, to, 4096, STATE)
        assert.deepEqual(Array.from(words.subarray(1024, 1024 + count)), stop === -1 ? expected : expected.slice(0, chunk.ends))
        assert.deepEqual([words[STATE / 4], words[STATE / 4 + 1], words[STATE / 4 + 2]], [inside ? -1 : 0, inside ? -1 : 0, mayOpen ? 1 : 0])
        if (stop !== -1) {
          assert.equal(words[STATE / 4 + 4], stop)
          return
        }
        assert.ok(words[STATE / 4 + 4] >= to)
      }
    }), { numRuns: 1000 })
  })

  it('finds the bytes of a range that ends at the last byte of its memory', () => {
    const search = createByteSearch(65536)
    search.bytes.fill(0x61)
    search.bytes[65535] = 0x0a
    search.bytes[65472] = 0x0a
    assert.equal(search.positions(60000, 65536, 0, 0x0a, 0x0a), 2)
    assert.deepEqual(Array.from(search.words.subarray(0, 2)), [65472, 65535])
  })

  it('indexes files with Buffer.indexOf in a runtime without WebAssembly (node --jitless)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'parascan-jitless-'))
    try {
      const file = join(dir, 'a.ndjson')
      await writeFile(file, '{"a":1}\n\n  \n{"a":2}\r\n')
      const index = new URL('../../src/sources/record-index.js', import.meta.url).href
      const script = `const { offsets, count } = await (await import(${JSON.stringify(index)})).indexNdjson(process.argv[1])
        console.log(typeof WebAssembly, count, offsets.get(0), offsets.get(1), offsets.get(2))`
      const { stdout } = await promisify(execFile)(process.execPath, ['--jitless', '--no-warnings', '--input-type=module', '-e', script, file])
      assert.equal(stdout.trim(), 'undefined 2 0 12 21')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
