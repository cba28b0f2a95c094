import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import fc from 'fast-check'
import { aggregateSchema, fileSourceSchema } from '../../schemas/scan-request.js'
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
      const read = await scan({ source: { type: 'file', path, format: 'ndjson' }, pipeline: [{ map: 'has(record.constructor) ? [record.constructor] : []' }] }, data.ctx, { chunk: 2 })
      assert.deepEqual(read.results.map(reparse), expected.map((record) => Object.hasOwn(record as object, 'constructor') ? [(record as Record<string, unknown>).constructor] : []))
    }), { numRuns: 60 })
    assert.equal(({} as Record<string, unknown>).polluted, undefined)
  })

  it('the request schema keeps every key of columns and metrics, __proto__ included, in order, and checks its value like any other (fast-check)', () => {
    const name = fc.oneof(specialKey, fc.string({ maxLength: 4 }))
    const types = fc.constantFrom('"string"', '"integer"', '"json"', '"decimal"', '1', 'null')
    fc.assert(fc.property(fc.uniqueArray(fc.tuple(name, types), { selector: ([key]) => key, maxLength: 5 }), (entries) => {
      const text = `{${entries.map(([key, type]) => `${JSON.stringify(key)}:${type}`).join(',')}}`
      const parsed = fileSourceSchema.safeParse(JSON.parse(`{"type":"file","path":"x.csv","columns":${text}}`))
      const bad = entries.filter(([, type]) => !['"string"', '"integer"', '"json"'].includes(type)).map(([key]) => key)
      if (bad.length > 0) {
        assert.equal(parsed.success, false)
        assert.deepEqual(parsed.error?.issues.map((issue) => issue.path[1]).sort(), [...bad].sort())
        return
      }
      assert.equal(parsed.success, true)
      const columns = parsed.data?.columns as object
      assert.deepEqual(Object.keys(columns), Object.keys(JSON.parse(text) as object))
      assert.equal(JSON.stringify(columns), JSON.stringify(JSON.parse(text)))
      assert.equal(Object.getPrototypeOf(columns), Object.prototype)
    }), { numRuns: 500 })
    const metrics = aggregateSchema.safeParse(JSON.parse('{"metrics":{"a":{"op":"count"},"__proto__":{"op":"max","expr":"1"},"constructor":{"op":"count"}}}'))
    assert.equal(JSON.stringify(metrics.data), '{"metrics":{"a":{"op":"count"},"__proto__":{"op":"max","expr":"1"},"constructor":{"op":"count"}}}')
    const badMetric = aggregateSchema.safeParse(JSON.parse('{"metrics":{"__proto__":{"op":"max","extra":1,"expr":""}}}'))
    assert.deepEqual(badMetric.error?.issues.map((issue) => issue.path.join('.')), ['metrics.__proto__.expr'])
  })

  it('reads them by name in CEL and keeps them in a CSV header', async () => {
    const path = await data.write('keys.ndjson', '{"__proto__":{"admin":true},"constructor":"c","n":1}\n')
    const read = await scan({ source: { type: 'file', path, format: 'ndjson' }, pipeline: [{ filter: 'record["__proto__"].admin && record.constructor == "c"' }, { map: '[record.n, record["constructor"]]' }] }, data.ctx)
    assert.deepEqual(read.results, [[1, 'c']])
    const nulls = await data.write('null-constructor.ndjson', '{"constructor":null,"__proto__":null,"a":2}\n{"constructor":1,"a":3}\n')
    const fields = await scan({ source: { type: 'file', path: nulls, format: 'ndjson' }, pipeline: [{ filter: 'record.a >= 2.0' }, { map: '[record.a, record.constructor]' }] }, data.ctx)
    assert.deepEqual(fields.results, [[2, null], [3, 1]])
    const csv = await data.write('keys.csv', '__proto__,constructor,prototype,n\na,b,c,1\n')
    const rows = await scan({ source: { type: 'file', path: csv, format: 'csv', columns: { n: 'integer' } }, pipeline: [{ map: 'record' }] }, data.ctx)
    assert.deepEqual(rows.results.map(reparse), [JSON.parse('{"__proto__":"a","constructor":"b","prototype":"c","n":1}')])
    const direct = await scan({ source: { type: 'file', path: csv, format: 'csv' } }, data.ctx)
    assert.deepEqual(Object.keys(direct.results[0] as object), ['__proto__', 'constructor', 'prototype', 'n'])
    assert.equal(({} as Record<string, unknown>).a, undefined)
  })

  it('a record nested deeper than the call stack fails with the expression\'s own error', async () => {
    const deep = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)
    const path = await data.write('deep.ndjson', `{"x":${deep(200_000)},"type":"p"}\n{"constructor":"c","x":${deep(200_000)}}\n{"amount":2}\n`)
    const run = await scan({ source: { type: 'file', path, format: 'ndjson' }, pipeline: [{ filter: 'record.amount > 0.0' }], aggregate: { metrics: { n: { op: 'count' } } } }, data.ctx, { onError: 'skip' })
    assert.deepEqual(run.aggregate, [{ group: null, n: 1 }])
    assert.deepEqual(run.errors.map((e) => e.offset), [0, 1])
    assert.match(run.errors[0].message, /^pipeline\[0\]\.filter: No such key: amount/)
    // With a key that cel-js misreads and too deep to hand over as Maps, cel-js's own error stands.
    assert.match(run.errors[1].message, /^pipeline\[0\]\.filter: /)
    assert.doesNotMatch(run.errors[1].message, /call stack/)
  })

  it('CSV columns named by any text keep their types and names, aggregate metrics named __proto__ or constructor keep theirs (fast-check)', async () => {
    const columnName = fc.oneof(specialKey, fc.constantFrom('', ' ', 'é', '😀', 'a"b', 'x,y', 'line\nbreak'), fc.string({ maxLength: 6, unit: 'grapheme' }))
    const metricName = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', 'n', '_')
    const column = fc.record({ type: fc.constantFrom('string', 'integer', 'boolean', 'json'), values: fc.array(fc.integer({ min: -99, max: 99 }), { minLength: 4, maxLength: 4 }) })
    const quote = (text: string) => `"${text.replaceAll('"', '""')}"`
    await fc.assert(fc.asyncProperty(
      fc.uniqueArray(columnName, { minLength: 1, maxLength: 5 }), fc.array(column, { minLength: 5, maxLength: 5 }), fc.integer({ min: 0, max: 4 }),
      fc.uniqueArray(metricName, { minLength: 1, maxLength: 4 }), fc.array(fc.constantFrom('count', 'sum', 'max', 'avg'), { minLength: 4, maxLength: 4 }),
      async (names, columns, rows, metrics, ops) => {
        /** Per column: the CSV text of row r and the JSON of its value. */
        const cell = (c: number, r: number): [string, string] => {
          const v = columns[c].values[r]
          switch (columns[c].type) {
            case 'integer': return [String(v), String(v)]
            case 'boolean': return [v % 2 === 0 ? 'true' : 'false', v % 2 === 0 ? 'true' : 'false']
            case 'json': return [quote(`{"__proto__":${v},"constructor":[${v}]}`), `{"__proto__":${v},"constructor":[${v}]}`]
            default: return [quote(`t${v}`), JSON.stringify(`t${v}`)]
          }
        }
        let text = names.map(quote).join(',') + '\r\n'
        for (let r = 0; r < rows; r++) text += names.map((_, c) => cell(c, r)[0]).join(',') + '\n'
        const path = await data.write(`columns-${file++}.csv`, text)
        const columnsJson = `{${names.map((name, c) => `${JSON.stringify(name)}:${JSON.stringify(columns[c].type)}`).join(',')}}`
        const source = JSON.parse(`{"type":"file","path":${JSON.stringify(path)},"columns":${columnsJson}}`) as Record<string, unknown>
        const run = await scan({ source, pipeline: [{ map: 'record' }] }, data.ctx, { chunk: 3 })
        const expected = Array.from({ length: rows }, (_, r) => JSON.parse(`{${names.map((name, c) => `${JSON.stringify(name)}:${cell(c, r)[1]}`).join(',')}}`) as unknown)
        assert.deepEqual(run.results.map(reparse), expected)
        for (const result of run.results) {
          assert.deepEqual(Object.keys(result as object).sort(), [...names].sort())
          assert.equal(Object.getPrototypeOf(result), Object.prototype)
        }

        const metricsJson = `{${metrics.map((name, m) => `${JSON.stringify(name)}:{"op":"${ops[m]}"${ops[m] === 'count' ? '' : ',"expr":"size(record)"'}}`).join(',')}}`
        const aggregate = JSON.parse(`{"metrics":${metricsJson}}`) as Record<string, unknown>
        const total = await scan({ source, aggregate }, data.ctx, { chunk: 2 })
        const value = (op: string): string => op === 'count' ? String(rows) : op === 'sum' ? String(rows * names.length) : rows === 0 ? 'null' : String(names.length)
        const row = JSON.parse(`{"group":null,${metrics.map((name, m) => `${JSON.stringify(name)}:${value(ops[m])}`).join(',')}}`) as unknown
        assert.deepEqual(total.aggregate?.map(reparse), [row])
        assert.deepEqual(Object.keys(total.aggregate?.[0] as object), ['group', ...metrics])
        assert.equal(Object.getPrototypeOf(total.aggregate?.[0]), Object.prototype)
      }), { numRuns: 60 })
    assert.equal(({} as Record<string, unknown>).op, undefined)
  })
})
