import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import fc from 'fast-check'
import { makeDataDir, scan } from '../helpers/scan-task-harness.js'

const data = await makeDataDir()
after(async () => await data.remove())

const specialKey = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__')
const key = fc.oneof(specialKey, fc.string({ maxLength: 8 }))
const json = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, fc.integer({ min: -1000, max: 1000 }), fc.string({ maxLength: 6 }), fc.boolean(), fc.constant(null),
    fc.array(tie('value'), { maxLength: 3 }), tie('object')),
  object: fc.dictionary(key, tie('value'), { maxKeys: 4 })
})).object

/** The record as JSON text parses it: keys such as __proto__ are own properties. */
const reparse = (value: unknown): unknown => JSON.parse(JSON.stringify(value))

let file = 0

describe('keys such as __proto__ and constructor are data', () => {
  it('NDJSON records keep them through CEL filters and maps, field access and map literals (fast-check)', async () => {
    await fc.assert(fc.asyncProperty(fc.array(json, { minLength: 1, maxLength: 6 }), async (records) => {
      const lines = records.map((record) => JSON.stringify(record))
      const path = await data.write(`keys-${file++}.ndjson`, lines.join('\n') + '\n')
      const expected = lines.map((line) => JSON.parse(line) as unknown)
      const identity = await scan({ source: { type: 'file', path, format: 'ndjson' }, pipeline: [{ filter: 'true' }, { map: 'record' }] }, data.ctx, { chunk: 3 })
      assert.deepEqual(identity.results.map(reparse), expected)
      for (const result of identity.results) assert.equal(Object.getPrototypeOf(result), Object.prototype)
      const wrapped = await scan({ source: { type: 'file', path, format: 'ndjson' }, pipeline: [{ map: '{"__proto__": record, "constructor": size(record)}' }] }, data.ctx)
      assert.deepEqual(wrapped.results.map(reparse), expected.map((record) => JSON.parse(`{"__proto__":${JSON.stringify(record)},"constructor":${Object.keys(record as object).length}}`)))
    }), { numRuns: 60 })
    assert.equal(({} as Record<string, unknown>).polluted, undefined)
  })

  it('reads them by name in CEL and keeps them in a CSV header', async () => {
    const path = await data.write('keys.ndjson', '{"__proto__":{"admin":true},"constructor":"c","n":1}\n')
    const read = await scan({ source: { type: 'file', path, format: 'ndjson' }, pipeline: [{ filter: 'record["__proto__"].admin && record.constructor == "c"' }, { map: '[record.n, record["constructor"]]' }] }, data.ctx)
    assert.deepEqual(read.results, [[1, 'c']])
    const csv = await data.write('keys.csv', '__proto__,constructor,prototype,n\na,b,c,1\n')
    const rows = await scan({ source: { type: 'file', path: csv, format: 'csv', columns: { n: 'integer' } }, pipeline: [{ map: 'record' }] }, data.ctx)
    assert.deepEqual(rows.results.map(reparse), [JSON.parse('{"__proto__":"a","constructor":"b","prototype":"c","n":1}')])
    const direct = await scan({ source: { type: 'file', path: csv, format: 'csv' } }, data.ctx)
    assert.deepEqual(Object.keys(direct.results[0] as object), ['__proto__', 'constructor', 'prototype', 'n'])
    assert.equal(({} as Record<string, unknown>).a, undefined)
  })
})
