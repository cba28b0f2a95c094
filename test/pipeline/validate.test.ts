import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { planScan, validateScan } from '../../src/pipeline/index.js'
import { request } from '../helpers/scan-task-harness.js'

const ctx = { dataDir: '.' }

async function fieldErrors (body: unknown): Promise<Array<{ path: string, message: string }>> {
  try {
    await validateScan(request(body), ctx)
  } catch (error) {
    const coded = error as Error & { code: string, statusCode: number, errors: Array<{ path: string, message: string }> }
    assert.equal(coded.code, 'PARASCAN_INVALID_SCAN')
    assert.equal(coded.statusCode, 400)
    return coded.errors
  }
  assert.fail('the scan was accepted')
}

describe('validateScan', () => {
  const range = { type: 'range', start: 0, end: 10 }

  it('accepts a valid scan and plans it', async () => {
    const body = { source: range, pipeline: [{ filter: 'record > 2' }, { processor: 'synthetic', params: { cost_us: 0 } }], aggregate: { metrics: { n: { op: 'count' } } }, on_error: 'skip', ordered: true }
    await validateScan(request(body), ctx)
    const plan = await planScan(request(body), ctx)
    assert.equal(plan.total, 10)
    assert.equal(plan.ordered, true)
    assert.equal(plan.on_error, 'skip')
    assert.match(String(plan.task.module), /workers\/aggregate-scan-task\.js$/)
    assert.doesNotThrow(() => structuredClone(plan.task.params))
  })

  it('names every bad expression with its path and column', async () => {
    const errors = await fieldErrors({
      source: range,
      pipeline: [{ filter: 'record >' }, { map: 'record.a' }, { map: 'record..b' }],
      aggregate: { group_by: 'nope', metrics: { total: { op: 'sum', expr: 'record +' }, n: { op: 'count' } } }
    })
    assert.deepEqual(errors.map((e) => e.path), ['pipeline[0].filter', 'pipeline[2].map', 'aggregate.group_by', 'aggregate.metrics.total.expr'])
    assert.match(errors[0].message, /column 9/)
    assert.match(errors[2].message, /Unknown variable: nope/)
  })

  it('refuses unknown processors and bad processor params by path', async () => {
    const errors = await fieldErrors({
      source: range,
      pipeline: [{ processor: 'nope' }, { processor: 'synthetic', params: { cost_us: -1, distribution: 'zipf', extra: 1 } }]
    })
    assert.equal(errors[0].path, 'pipeline[0].processor')
    assert.match(errors[0].message, /unknown processor "nope"; known: synthetic/)
    assert.deepEqual(errors.slice(1).map((e) => e.path).sort(), ['pipeline[1].params', 'pipeline[1].params.cost_us', 'pipeline[1].params.distribution'])
  })

  it('checks the range and the aggregate metrics', async () => {
    assert.deepEqual((await fieldErrors({ source: { type: 'range', start: 5, end: 4 } })).map((e) => e.path), ['source.end'])
    assert.match((await fieldErrors({ source: { type: 'range', start: 0, end: 2 ** 31 } }))[0].message, /at most 2147483647/)
    const errors = await fieldErrors({ source: range, aggregate: { metrics: { group: { op: 'count' }, s: { op: 'avg' } } } })
    assert.deepEqual(errors.map((e) => e.path), ['aggregate.metrics.group', 'aggregate.metrics.s.expr'])
    assert.deepEqual((await fieldErrors({ source: range, aggregate: { metrics: {} } })).map((e) => e.path), ['aggregate.metrics'])
  })

  it('refuses a metric whose expression has a known type that is not a number, and keeps dyn, null and numbers', async () => {
    const inline = { type: 'inline', records: [{ a: 1, s: 'x' }, 7] }
    const metrics = {
      str: { op: 'sum', expr: 'string(record)' },
      flag: { op: 'count', expr: 'record.a == 1' },
      list: { op: 'max', expr: '[record]' },
      dur: { op: 'min', expr: 'duration("1s")' },
      dyn: { op: 'sum', expr: 'record.a' },
      none: { op: 'count', expr: 'null' },
      int: { op: 'avg', expr: 'size(record)' },
      uint: { op: 'sum', expr: '1u' },
      dbl: { op: 'sum', expr: 'double(record.s)' }
    }
    const errors = await fieldErrors({ source: inline, aggregate: { metrics } })
    assert.deepEqual(errors.map((e) => e.path), ['aggregate.metrics.str.expr', 'aggregate.metrics.flag.expr', 'aggregate.metrics.list.expr', 'aggregate.metrics.dur.expr'])
    assert.match(errors[0].message, /a metric must give a number, and this one gives string/)
    assert.match(errors[1].message, /gives bool/)
    const typed = await fieldErrors({ source: range, pipeline: [{ map: 'string(record)' }], aggregate: { metrics: { s: { op: 'sum', expr: 'record' } } } })
    assert.deepEqual(typed.map((e) => e.path), ['aggregate.metrics.s.expr'])
    assert.match(typed[0].message, /gives string \(pipeline\[0\]\.map gives a string\)/)
    const afterProcessor = await fieldErrors({ source: range, pipeline: [{ processor: 'synthetic', params: { cost_us: 0 } }], aggregate: { metrics: { m: { op: 'max', expr: 'record > 1' } } } })
    assert.deepEqual(afterProcessor.map((e) => e.path), ['aggregate.metrics.m.expr'])
    await validateScan(request({ source: inline, aggregate: { group_by: 'type(record) == int', metrics: { a: { op: 'sum', expr: 'record.a' }, n: { op: 'count' } } } }), ctx)
  })

  it('refuses typed columns on an NDJSON source', async () => {
    const errors = await fieldErrors({ source: { type: 'file', path: 'package.json', format: 'ndjson', columns: { a: 'number' } } })
    assert.deepEqual(errors, [{ path: 'source.columns', message: 'only CSV sources have typed columns' }])
  })
})
