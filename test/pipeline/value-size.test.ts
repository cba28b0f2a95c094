import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { jsonBytesUpTo } from '../../src/pipeline/value-size.js'

const LIMIT = 1 << 20

test('a number measures as many bytes as JSON writes (at most 24), integers of every size included', () => {
  const written = (value: number): number => Math.min(24, String(value).length)
  for (const value of [0, -0, 1, -1, 9, 10, 99, 100, 999_999_999, 1e15, 1e16 - 1, 2 ** 53, -(2 ** 53), 1e20, 1e21 - 65536, 1e21, 1e22, 123.5, -0.001, 5e-324, Number.MAX_VALUE, -Number.MAX_VALUE]) {
    assert.equal(jsonBytesUpTo(value, LIMIT), written(value), String(value))
  }
  for (let k = 1; k <= 22; k++) {
    for (const value of [10 ** k, 10 ** k - 1, -(10 ** k), -(10 ** k) + 1]) assert.equal(jsonBytesUpTo(value, LIMIT), written(value), String(value))
  }
  fc.assert(fc.property(fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 }), fc.maxSafeInteger(), fc.double({ noNaN: true, noDefaultInfinity: true })), (value) => {
    assert.equal(jsonBytesUpTo(value, LIMIT), written(value))
  }), { numRuns: 5000 })
})

test('numbers inside an array count the same way (with a separator each)', () => {
  fc.assert(fc.property(fc.array(fc.oneof(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), fc.double({ noNaN: true, noDefaultInfinity: true })), { maxLength: 20 }), (values) => {
    assert.equal(jsonBytesUpTo(values, LIMIT), values.reduce((sum, v) => sum + 1 + Math.min(24, String(v).length), 2))
  }))
})
