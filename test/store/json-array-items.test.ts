import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { jsonArrayItemBounds, jsonArrayLines, splitJsonArray } from '../../src/store/json-array-items.js'

const items = fc.array(fc.jsonValue({ maxDepth: 4 }), { maxLength: 40 })
const awkward = fc.array(fc.oneof(
  fc.string({ unit: fc.constantFrom('"', '\\', ',', '[', ']', '{', '}', 'a', 'é', '😀', '\n', '\u2028', '\ud800') }),
  fc.dictionary(fc.string({ unit: fc.constantFrom('"', '\\', ',', ':', ']', '}', 'k') }), fc.constantFrom('],[', '"', '\\"')),
  fc.constant([[], {}, [[]], ''])
), { maxLength: 20 })

test('item bounds of a JSON array text find every item as JSON.stringify wrote it', () => {
  fc.assert(fc.property(fc.oneof(items, awkward), (array) => {
    const text = JSON.stringify(array)
    const bounds = jsonArrayItemBounds(text)
    assert.deepEqual(Array.from({ length: bounds.length / 2 }, (_, k) => text.slice(bounds[2 * k], bounds[2 * k + 1])), array.map((item) => JSON.stringify(item)))
  }), { numRuns: 2000 })
})

test('a JSON array text cut at a bound: every item once, in order, each part within the bound unless it is one item', () => {
  fc.assert(fc.property(fc.oneof(items, awkward), fc.integer({ min: 2, max: 400 }), (array, maxChars) => {
    const text = JSON.stringify(array)
    const parts = splitJsonArray(text, maxChars)
    if (text.length <= maxChars) assert.deepEqual(parts, [text])
    const parsed = parts.map((part) => JSON.parse(part) as unknown[])
    assert.deepEqual(parsed.flat(), JSON.parse(text))
    for (const [k, part] of parts.entries()) {
      assert.ok(part.length <= maxChars || parsed[k].length === 1, `${part.length} chars in ${parsed[k].length} items over ${maxChars}`)
      if (text.length > maxChars) assert.ok(parsed[k].length > 0)
    }
  }), { numRuns: 2000 })
})

test('JSON array lines are the items\' JSON, one a line', () => {
  fc.assert(fc.property(fc.oneof(items, awkward), (array) => {
    const { lines, items: count } = jsonArrayLines(JSON.stringify(array))
    assert.equal(count, array.length)
    assert.equal(lines, array.map((item) => JSON.stringify(item) + '\n').join(''))
  }), { numRuns: 2000 })
})

test('a text that is not an array is refused', () => {
  for (const text of ['', '[', '{}', '1', 'null']) assert.throws(() => jsonArrayItemBounds(text), SyntaxError)
})
