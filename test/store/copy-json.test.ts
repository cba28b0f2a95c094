import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { copyJson } from '../../src/store/copy-json.js'

/** Every object and array reachable from `value`. */
function containers (value: unknown, out = new Set<object>()): Set<object> {
  if (typeof value !== 'object' || value === null) return out
  out.add(value)
  for (const item of Object.values(value)) containers(item, out)
  return out
}

const keyed = fc.dictionary(fc.constantFrom('__proto__', 'constructor', 'a', 'toString'), fc.jsonValue({ maxDepth: 3 }))
const withUndefined = fc.record({ a: fc.constant(undefined), b: fc.jsonValue({ maxDepth: 2 }) })

test('a JSON copy equals what structuredClone makes and shares no object or array with the original', () => {
  fc.assert(fc.property(fc.oneof(fc.jsonValue({ maxDepth: 5 }), keyed, withUndefined), (value) => {
    const copy = copyJson(value)
    assert.deepStrictEqual(copy, structuredClone(value))
    const original = containers(value)
    for (const inner of containers(copy)) assert.ok(!original.has(inner))
  }), { numRuns: 3000 })
})

test('a __proto__ key stays an own, enumerable property and leaves the prototype alone', () => {
  const value = JSON.parse('{"__proto__": {"polluted": true}, "n": 1}') as Record<string, unknown>
  const copy = copyJson(value)
  assert.equal(Object.getPrototypeOf(copy), Object.prototype)
  assert.deepEqual(Object.keys(copy), ['__proto__', 'n'])
  assert.deepEqual(JSON.stringify(copy), JSON.stringify(value))
  assert.equal(({} as Record<string, unknown>).polluted, undefined)
})
