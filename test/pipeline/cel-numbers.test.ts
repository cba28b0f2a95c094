import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { validateScan } from '../../src/pipeline/index.js'
import { makeDataDir, request, scan, type DataDir } from '../helpers/scan-task-harness.js'

const ctx = { dataDir: '.' }

async function refusal (body: unknown, context = ctx): Promise<Array<{ path: string, message: string }>> {
  try {
    await validateScan(request(body), context)
  } catch (error) {
    assert.equal((error as { statusCode?: number }).statusCode, 400)
    return (error as { errors: Array<{ path: string, message: string }> }).errors
  }
  return assert.fail(`accepted: ${JSON.stringify(body)}`)
}

describe('CEL numbers', () => {
  let data: DataDir
  before(async () => {
    data = await makeDataDir()
    await data.write('n.ndjson', '1\n2\n3\n4\n9007199254740993\n1e21\n-0\n')
    await data.write('orders.ndjson', '{"amount": 4, "qty": 3}\n{"amount": 2.5, "qty": 1}\n')
    await data.write('orders.csv', 'amount,qty,note\n4,3,a\n2.5,1,b\n')
  })
  after(() => data.remove())

  it('`record % 2 == 0` keeps the even numbers of every source', async () => {
    const even = { filter: 'record % 2 == 0' }
    assert.deepEqual((await scan({ source: { type: 'range', start: 0, end: 7 }, pipeline: [even] }, ctx)).results, [0, 2, 4, 6])
    assert.deepEqual((await scan({ source: { type: 'inline', records: [1, 2, 3, 4, 4.5] }, pipeline: [even] }, ctx)).results, [2, 4])
    assert.deepEqual((await scan({ source: { type: 'file', path: 'n.ndjson', format: 'ndjson' }, pipeline: [even] }, data.ctx)).results,
      [2, 4, 9007199254740992, 1e21, -0])
    const csv = { type: 'file', path: 'orders.csv', format: 'csv', columns: { amount: 'number', qty: 'integer' } }
    assert.deepEqual((await scan({ source: csv, pipeline: [{ filter: 'record.qty % 3 == 0' }, { map: 'record.note' }] }, data.ctx)).results, ['a'])
  })

  it('`record.amount + 1` and int/double arithmetic mix as in JavaScript; two ints keep int arithmetic', async () => {
    const steps = [{ map: '{"a": record.amount + 1, "half": record.amount / 2, "q": record.qty * 2, "r": record.amount % 1.5}' }]
    const expected = [{ a: 5, half: 2, q: 6, r: 1 }, { a: 3.5, half: 1.25, q: 2, r: 1 }]
    assert.deepEqual((await scan({ source: { type: 'inline', records: [{ amount: 4, qty: 3 }, { amount: 2.5, qty: 1 }] }, pipeline: steps }, ctx)).results, expected)
    assert.deepEqual((await scan({ source: { type: 'file', path: 'orders.ndjson', format: 'ndjson' }, pipeline: steps }, data.ctx)).results, expected)
    const csv = { type: 'file', path: 'orders.csv', format: 'csv', columns: { amount: 'number', qty: 'integer' } }
    assert.deepEqual((await scan({ source: csv, pipeline: steps }, data.ctx)).results, expected)
    const range = await scan({ source: { type: 'range', start: 3, end: 4 }, pipeline: [{ map: '[record / 2, record / 2.0, record + 0.5, record % 2.0, 7 % record]' }] }, ctx)
    assert.deepEqual(range.results, [[1, 1.5, 3.5, 1, 1]])
  })

  it('numbers that come back from a processor work as before it', async () => {
    const synthetic = { processor: 'synthetic', params: { cost_us: 0 } }
    for (const source of [{ type: 'range', start: 998, end: 1003 }, { type: 'inline', records: [998, 999, 1000, 1001, 1002] }]) {
      const run = await scan({ source, pipeline: [synthetic, { filter: 'record % 2 == 0' }, { map: 'int(record) % 1000' }, { map: 'record + 1' }] }, ctx)
      assert.deepEqual(run.results, [999, 1, 3], JSON.stringify(source))
    }
    const doubled = await scan({ source: { type: 'range', start: 0, end: 3 }, pipeline: [{ map: 'record * 2' }, synthetic, { map: 'record / 4' }] }, ctx)
    assert.deepEqual(doubled.results, [0, 0.5, 1])
  })

  it('edge numbers: -0, 2^53+1 read as 2^53, 1e21, modulo by zero is an error of the record', async () => {
    const run = await scan({ source: { type: 'file', path: 'n.ndjson', format: 'ndjson' }, pipeline: [{ map: '[record + 1, record % 1000, record == 0]' }] }, data.ctx)
    assert.deepEqual(run.results.slice(4), [[9007199254740992, 992, false], [1e21, 0, false], [1, -0, true]])
    await assert.rejects(scan({ source: { type: 'inline', records: [3] }, pipeline: [{ map: 'record % 0' }] }, ctx), /record 0: pipeline\[0\]\.map: modulo by zero/)
    await assert.rejects(scan({ source: { type: 'inline', records: [1e21] }, pipeline: [{ map: 'int(record) + 1' }] }, ctx), /record 0: pipeline\[0\]\.map: .*overflow/)
    assert.deepEqual((await scan({ source: { type: 'inline', records: [3] }, pipeline: [{ map: 'record / 0' }] }, ctx, { onError: 'skip' })).errors.length, 1)
  })

  it('refuses at submit what cannot work, naming the step and the fix', async () => {
    const bare = await refusal({ source: { type: 'range', start: 0, end: 10 }, pipeline: [{ filter: 'record' }] })
    assert.equal(bare[0].path, 'pipeline[0].filter')
    assert.match(bare[0].message, /a filter must give a bool, and this one gives int \(the records of a range are ints\); compare the value instead, e.g. `record % 2 == 0`/)
    const empty = await refusal({ source: { type: 'range', start: 0, end: 0 }, pipeline: [{ filter: 'record + 1' }] })
    assert.equal(empty[0].path, 'pipeline[0].filter')
    const size = await refusal({ source: { type: 'range', start: 0, end: 10 }, pipeline: [{ filter: 'record > 1' }, { map: 'size(record)' }] })
    assert.deepEqual(size.map((e) => e.path), ['pipeline[1].map'])
    assert.match(size[0].message, /no matching overload for 'size\(int\)' \(at column 1\): record is an int here \(the records of a range are ints\)/)
    const field = await refusal({ source: { type: 'range', start: 0, end: 10 }, pipeline: [{ filter: 'record.amount > 1' }] })
    assert.match(field[0].message, /Cannot index type 'int'/)
    const afterMap = await refusal({ source: { type: 'range', start: 0, end: 10 }, pipeline: [{ map: 'string(record)' }, { filter: 'record' }] })
    assert.equal(afterMap[0].path, 'pipeline[1].filter')
    assert.match(afterMap[0].message, /gives string \(pipeline\[0\]\.map gives a string\).*`record != ""`/)
    const strings = await refusal({ source: { type: 'inline', records: ['a', 'b'] }, pipeline: [{ map: 'record % 2' }] })
    assert.match(strings[0].message, /no such overload: string % int .*every record of this inline source is a string/)
    const csv = await refusal({ source: { type: 'file', path: 'orders.csv', format: 'csv' }, pipeline: [{ filter: 'record' }] }, data.ctx)
    assert.match(csv[0].message, /gives map \(CSV records are maps of column names to values\)/)
    const agg = await refusal({ source: { type: 'range', start: 0, end: 10 }, aggregate: { metrics: { s: { op: 'sum', expr: 'record.x' } } } })
    assert.equal(agg[0].path, 'aggregate.metrics.s.expr')
  })

  it('accepts what can work on some record: comparisons across types, guarded branches, mixed inline records', async () => {
    const accepted = [
      { source: { type: 'range', start: 0, end: 10 }, pipeline: [{ filter: 'record == 1.5 || record == null || record in [1, 2] || record == "a"' }] },
      { source: { type: 'range', start: 0, end: 10 }, pipeline: [{ map: 'record > 5 ? record : "small"' }, { map: 'type(record) == string ? size(record) : record' }] },
      { source: { type: 'range', start: 0, end: 10 }, pipeline: [{ filter: 'record > 5 ? size(string(record)) > 0 : true' }] },
      { source: { type: 'inline', records: [1, 2.5] }, pipeline: [{ filter: 'record in [1, 2]' }] },
      { source: { type: 'inline', records: ['ab', 'cd', 5, 'ef'] }, pipeline: [{ map: 'size(record)' }] },
      { source: { type: 'inline', records: [{ a: 1 }] }, pipeline: [{ filter: 'record.a' }] },
      { source: { type: 'file', path: 'n.ndjson', format: 'ndjson' }, pipeline: [{ filter: 'record' }] },
      { source: { type: 'range', start: 0, end: 10 }, pipeline: [{ processor: 'synthetic' }, { filter: 'record' }] }
    ]
    for (const body of accepted) await validateScan(request(body), data.ctx)
  })
})
