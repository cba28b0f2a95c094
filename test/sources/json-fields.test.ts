import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { extractJsonFields } from '../../src/sources/json-field-extractor.js'
import { extractJsonFieldsFromBytes, WantedFields } from '../../src/sources/json-bytes-extractor.js'
import { recordFields } from '../../src/pipeline/record-fields.js'
import { makeDataDir, scan } from '../helpers/scan-task-harness.js'

function pick (value: unknown, wanted: Set<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) if (wanted.has(k)) out[k] = v
  return out
}

const keys = fc.constantFrom('a', 'b', 'type', 'amount', 'é', 'x"y', 'a\\b', '')

describe('JSON field extraction', () => {
  it('gives what JSON.parse gives for the wanted fields of any object, however it is spaced', () => {
    fc.assert(fc.property(
      fc.dictionary(keys, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }),
      fc.subarray(['a', 'b', 'type', 'amount', 'é', 'x"y', 'a\\b', '', 'missing']),
      fc.constantFrom(undefined, 1, '\t', ' \r\n '),
      (object, wanted, space) => {
        const text = JSON.stringify(object, null, space)
        const set = new Set(wanted)
        assert.deepEqual(extractJsonFields(text, set), pick(JSON.parse(text), set))
      }), { numRuns: 500 })
  })

  it('never accepts text that JSON.parse refuses, and agrees when both accept (mutated JSON)', () => {
    const mutated = fc.tuple(fc.dictionary(keys, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }), fc.nat(), fc.nat(), fc.constantFrom('', '"', '\\', ',', '}', '{', ']', '[', ':', '-', '0', 'e', '.', '\u0001', 'tru', ' '))
      .map(([object, at, cut, insert]) => {
        const text = JSON.stringify(object)
        const i = at % (text.length + 1)
        return text.slice(0, i) + insert + text.slice(i + (cut % 3))
      })
    fc.assert(fc.property(mutated, (text) => {
      const wanted = new Set(['a', 'b', 'type'])
      const extracted = extractJsonFields(text, wanted)
      let parsed: unknown
      try {
        parsed = JSON.parse(text)
      } catch {
        assert.equal(extracted, undefined, `accepted invalid JSON ${JSON.stringify(text)}`)
        return
      }
      const isObject = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      assert.deepEqual(extracted, isObject ? pick(parsed, wanted) : undefined)
    }), { numRuns: 3000 })
  })

  it('reads numbers exactly as JSON.parse does', () => {
    const decimal = fc.tuple(fc.boolean(), fc.bigInt({ min: 0n, max: 10n ** 20n }), fc.integer({ min: 0, max: 25 }), fc.constantFrom('', 'e5', 'E-3', 'e+300'))
      .map(([negative, digits, point, exponent]) => {
        const text = digits.toString()
        const at = Math.max(1, text.length - point)
        const body = at >= text.length ? text : `${text.slice(0, at)}.${text.slice(at)}`
        return `${negative ? '-' : ''}${body.replace(/^0+(?=\d)/, '')}${exponent}`
      })
    fc.assert(fc.property(fc.oneof(decimal, fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d))), (number) => {
      const text = `{"n":${number}}`
      assert.ok(Object.is(extractJsonFields(text, new Set(['n']))?.n, JSON.parse(text).n), number)
    }), { numRuns: 3000 })
  })

  it('takes the last of duplicate keys, and refuses non-objects and trailing garbage', () => {
    assert.deepEqual(extractJsonFields('{"a":1,"a":2}', new Set(['a'])), { a: 2 })
    assert.deepEqual(extractJsonFields('{"a":"\\u00e9\\n"}', new Set(['a'])), { a: 'é\n' })
    assert.deepEqual(extractJsonFields('{"a":"x"}\r', new Set(['a'])), { a: 'x' })
    assert.equal(extractJsonFields('{"a":"x\ry"}\r', new Set(['a'])), undefined)
    assert.equal(extractJsonFields('{"a":"x"}\u0001', new Set(['a'])), undefined)
    assert.equal(extractJsonFields('[1]', new Set(['a'])), undefined)
    assert.equal(extractJsonFields('{"a":1} x', new Set(['a'])), undefined)
    assert.equal(extractJsonFields('{"a":01}', new Set(['a'])), undefined)
    assert.equal(extractJsonFields('{"a":1,}', new Set(['a'])), undefined)
  })
})

describe('JSON field extraction from bytes', () => {
  const piece = fc.oneof(
    fc.constantFrom('', '"', '\\', ',', '}', '{', ']', '[', ':', '-', '0', '1.5', 'e', '.', '\u0001', 'tru', 'null', ' ', '\t', '\r\n', 'é', '😀', '\\u00e9', '\\"', '\u001f'),
    fc.constantFrom('\xff', '\xc3', '\xe2\x82', '\x80').map((latin1) => Buffer.from(latin1, 'latin1'))
  )
  const line = fc.tuple(fc.dictionary(keys, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 }), fc.constantFrom(undefined, 1, '\t'), fc.array(fc.tuple(fc.nat(), fc.nat(), piece), { maxLength: 2 }))
    .map(([object, space, edits]) => {
      let bytes = Buffer.from(JSON.stringify(object, null, space))
      for (const [at, cut, insert] of edits) {
        const i = at % (bytes.length + 1)
        bytes = Buffer.concat([bytes.subarray(0, i), typeof insert === 'string' ? Buffer.from(insert) : insert, bytes.subarray(i + (cut % 3))])
      }
      return bytes
    })

  it('gives what the text scanner gives on the decoded line, valid or not, whatever bytes surround it (property)', () => {
    fc.assert(fc.property(line, fc.subarray(['a', 'b', 'type', 'amount', 'é', 'x"y', 'a\\b', '', 'missing']), fc.constantFrom('', '{"a":1}', '"', '\n{'), (bytes, wanted, around) => {
      const set = new Set(wanted)
      const framed = Buffer.concat([Buffer.from(around), bytes, Buffer.from(around)])
      const start = Buffer.byteLength(around)
      const expected = extractJsonFields(bytes.toString('utf8'), set)
      assert.deepEqual(extractJsonFieldsFromBytes(framed, start, start + bytes.length, new WantedFields(set)), expected, JSON.stringify(bytes.toString('latin1')))
    }), { numRuns: 5000 })
  })

  it('cannot compare names that invalid UTF-8 could stand for', () => {
    assert.equal(new WantedFields(new Set(['a', 'é'])).comparable, true)
    assert.equal(new WantedFields(new Set(['\uFFFD'])).comparable, false)
    assert.equal(new WantedFields(new Set(['\ud800'])).comparable, false)
  })
})

describe('fields read by expressions', () => {
  it('lists top-level fields read as record.x or record["x"], or null when the record is used whole', () => {
    assert.deepEqual(recordFields(['record.type == "a" && record["amount"] > 1.0', 'has(record.c) ? record.c.d : 0']), new Set(['type', 'amount', 'c']))
    assert.equal(recordFields(['size(record) > 1']), null)
    assert.equal(recordFields(['record.l.map(record, record.x)']), null)
    assert.equal(recordFields(['record[record.k]']), null)
    assert.equal(recordFields(['record.__proto__ == 1']), null)
    assert.deepEqual(recordFields(['1 + 2 == 3']), new Set())
  })

  it('give the same scan results with and without projection, including bad lines', async () => {
    const data = await makeDataDir()
    try {
      const lines = ['{"type":"a","amount":5,"x":[1,{"y":2}]}', '{"type":"b","amount":50}', '{"type":"a","amount":1e2,"dup":1,"type":"a"}', '{"type":"a","amount":', '[1,2]', '{"type":"a"}', '{"type":"a","amount":7,"z":tru}']
      await data.write('p.ndjson', lines.join('\n'))
      const source = { type: 'file', path: 'p.ndjson', format: 'ndjson' }
      const projected = await scan({ source, pipeline: [{ filter: 'has(record.amount) && record.type == "a"' }] }, data.ctx, { onError: 'skip' })
      const whole = await scan({ source, pipeline: [{ filter: 'size(record) > 0 && has(record.amount) && record.type == "a"' }] }, data.ctx, { onError: 'skip' })
      assert.deepEqual(projected.results, [JSON.parse(lines[0]), JSON.parse(lines[2])])
      assert.deepEqual(projected.results, whole.results)
      assert.deepEqual(projected.errors.map((e) => e.offset), [3, 6])
      assert.deepEqual(whole.errors.map((e) => e.offset), [3, 6])
      const counted = await scan({ source, pipeline: [{ filter: 'record.type == "a"' }], aggregate: { metrics: { n: { op: 'count' }, s: { op: 'sum', expr: 'record.amount' } } } }, data.ctx, { onError: 'skip' })
      assert.deepEqual(counted.aggregate, [{ group: null, n: 3, s: 105 }])
      assert.deepEqual(counted.errors.map((e) => e.offset), [3, 4, 5, 6])
    } finally {
      await data.remove()
    }
  })
})
