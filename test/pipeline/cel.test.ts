import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { checkExpression, compileExpression } from '../../src/pipeline/cel-expression.js'
import { celToJson } from '../../src/pipeline/cel-to-json.js'
import { makeDataDir, scan } from '../helpers/scan-task-harness.js'

const ctx = { dataDir: '.' }

describe('CEL steps', () => {
  it('says where a syntax error is, by column or by line and column', () => {
    assert.match(checkExpression('record.x +') ?? '', /Unexpected token: EOF \(at column 11\)/)
    assert.match(checkExpression('record.x > 1 &&\n  * 2') ?? '', /at line 2, column 3/)
    assert.match(checkExpression('foo > 1') ?? '', /Unknown variable: foo/)
    assert.equal(checkExpression('record.a.b == "x" && size(record.list) > 2'), null)
  })

  it('compiles a label and source once per thread: the same program comes back, errors still name their label', () => {
    const program = compileExpression('record.x > 1', 'pipeline[0].filter')
    assert.equal(compileExpression('record.x > 1', 'pipeline[0].filter'), program)
    assert.equal(program({ x: 2 }), true)
    const other = compileExpression('record.x > 1', 'pipeline[3].filter')
    assert.notEqual(other, program)
    assert.throws(() => other({ x: 'a' }), /^Error: pipeline\[3\]\.filter: /)
    assert.throws(() => program({ x: 'a' }), /^Error: pipeline\[0\]\.filter: /)
    assert.throws(() => compileExpression('record.x >', 'pipeline[0].filter'), /^Error: pipeline\[0\]\.filter: Unexpected token/)
  })

  it('refuses expressions over the structural limits', () => {
    assert.match(checkExpression(Array.from({ length: 3000 }, () => 'record').join(' + ')) ?? '', /Exceeded maxAstNodes \(2000\)/)
    assert.match(checkExpression(`[${Array.from({ length: 1001 }, () => '1').join(',')}]`) ?? '', /Exceeded maxListElements \(1000\)/)
    assert.equal(checkExpression(`[${Array.from({ length: 1000 }, () => '1').join(',')}] == []`), null)
  })

  it('sees range records as ints and JSON numbers as doubles; comparisons and arithmetic mix', async () => {
    const range = await scan({ source: { type: 'range', start: 0, end: 10 }, pipeline: [{ filter: 'record % 3 == 0' }, { map: 'record * 10' }, { filter: 'record > 5.5' }] }, ctx)
    assert.deepEqual(range.results, [30, 60, 90])
    const inline = await scan({ source: { type: 'inline', records: [{ x: 1 }, { x: 2.5 }, { x: 4 }] }, pipeline: [{ filter: 'record.x >= 2' }, { map: 'int(record.x) + 1' }] }, ctx)
    assert.deepEqual(inline.results, [3, 5])
    const doubles = await scan({ source: { type: 'inline', records: [{ x: 3 }] }, pipeline: [{ map: 'record.x / 2.0' }] }, ctx)
    assert.deepEqual(doubles.results, [1.5])
    assert.deepEqual((await scan({ source: { type: 'inline', records: [{ x: 3 }] }, pipeline: [{ map: 'record.x + 1' }] }, ctx)).results, [4])
  })

  it('keeps ints as ints from one step to the next, and returns plain JSON', async () => {
    const run = await scan({
      source: { type: 'range', start: 5, end: 7 },
      pipeline: [{ map: '{"n": record, "sq": record * record, "tags": ["a", string(record)], "bytes": b"hi", "t": timestamp("2024-01-01T00:00:00Z")}' }, { filter: 'record.sq % 2 == 1' }]
    }, ctx)
    assert.deepEqual(run.results, [{ n: 5, sq: 25, tags: ['a', '5'], bytes: 'aGk=', t: '2024-01-01T00:00:00.000Z' }])
  })

  it('drops the record when a map gives null, and refuses a filter that is not a bool', async () => {
    const run = await scan({ source: { type: 'inline', records: [{ a: 1 }, { b: 2 }] }, pipeline: [{ map: 'has(record.a) ? record.a : null' }] }, ctx)
    assert.deepEqual(run.results, [1])
    await assert.rejects(scan({ source: { type: 'inline', records: [{ a: 1 }] }, pipeline: [{ filter: 'record.a' }] }, ctx), /pipeline\[0\]\.filter: must be a bool, got double/)
  })

  it('fails a scan at a runtime error with on_error fail, and skips the record with skip', async () => {
    const body = { source: { type: 'inline', records: [{ a: 1 }, { b: 1 }, { a: 3 }] }, pipeline: [{ filter: 'record.a > 1.0' }] }
    await assert.rejects(scan(body, ctx), /record 1: pipeline\[0\]\.filter: No such key: a \(at column 8\)/)
    const run = await scan(body, ctx, { onError: 'skip' })
    assert.deepEqual(run.results, [{ a: 3 }])
    assert.deepEqual(run.errors.map((e) => e.offset), [1])
  })

  it('refuses ints outside the JSON safe range and non-finite doubles in results', async () => {
    await assert.rejects(scan({ source: { type: 'range', start: 0, end: 1 }, pipeline: [{ map: '9007199254740993' }] }, ctx), /integer 9007199254740993 is outside the JSON safe range/)
    await assert.rejects(scan({ source: { type: 'range', start: 0, end: 1 }, pipeline: [{ map: '1.0 / 0.0' }] }, ctx), /Infinity is not representable in JSON/)
    assert.equal(celToJson(BigInt(Number.MAX_SAFE_INTEGER)), Number.MAX_SAFE_INTEGER)
  })

  it('fails a record that reaches the result holding a number JSON cannot write, also when no map made it', async () => {
    const data = await makeDataDir()
    try {
      await data.write('big.ndjson', '{"type":"purchase","amount":1e400}\n{"type":"purchase","amount":5}\n{"type":"view","amount":[-1e400]}\n')
      await data.write('big.csv', 'a,b\n1,1e400\n2,[1e400]\n3,4\n')
      const runs = [
        { source: { type: 'file', path: 'big.ndjson' }, pipeline: [{ filter: 'record.type == "purchase"' }] },
        { source: { type: 'file', path: 'big.ndjson' }, pipeline: [] },
        { source: { type: 'file', path: 'big.csv', columns: { b: 'json' } }, pipeline: [] },
        { source: { type: 'inline', records: [Infinity, { a: NaN }, 5] }, pipeline: [] },
        { source: { type: 'inline', records: [{ a: -Infinity }, 5] }, pipeline: [{ processor: 'synthetic', params: { cost_us: 0 } }] }
      ]
      const failed = [[0], [0, 2], [0, 1], [0, 1], [0]]
      for (const [i, body] of runs.entries()) {
        const run = await scan(body, data.ctx, { onError: 'skip' })
        assert.deepEqual(run.errors.map((e) => e.offset), failed[i], JSON.stringify(body))
        for (const error of run.errors) assert.match(error.message, /(-?Infinity|NaN) is not representable in JSON/)
        assert.ok(!JSON.stringify(run.results).includes('null'), JSON.stringify(run.results))
      }
    } finally {
      await data.remove()
    }
  })

  it('compiles once and labels its runtime errors', () => {
    const program = compileExpression('record.a * 2.0', 'pipeline[3].map')
    assert.equal(program({ a: 2 }), 4)
    assert.throws(() => program({}), /^Error: pipeline\[3\]\.map: No such key: a/)
    assert.throws(() => compileExpression('record +', 'pipeline[1].filter'), /pipeline\[1\]\.filter: Unexpected token/)
  })
})
