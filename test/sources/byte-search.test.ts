import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
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

  it('finds the bytes of a range that ends at the last byte of its memory', () => {
    const search = createByteSearch(65536)
    search.bytes.fill(0x61)
    search.bytes[65535] = 0x0a
    search.bytes[65472] = 0x0a
    assert.equal(search.positions(60000, 65536, 0, 0x0a, 0x0a), 2)
    assert.deepEqual(Array.from(search.words.subarray(0, 2)), [65472, 65535])
  })
})
