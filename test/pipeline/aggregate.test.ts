import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { WorkStealingPool } from '../../src/index.js'
import { Aggregation, type AggregateState } from '../../src/pipeline/aggregation.js'
import { compareGroups } from '../../src/pipeline/group-order.js'
import { planScan } from '../../src/pipeline/plan-scan.js'
import type { ScanParams } from '../../src/pipeline/scan-params.js'
import { request, runPlan, scan } from '../helpers/scan-task-harness.js'

const ctx = { dataDir: '.' }

interface Row { k: string | null, v: number | null }

function plain (rows: Row[]) {
  const groups = new Map<string | null, { n: number, nv: number, sum: number, min: number | null, max: number | null }>()
  for (const row of rows) {
    const g = groups.get(row.k) ?? { n: 0, nv: 0, sum: 0, min: null, max: null }
    g.n++
    if (row.v !== null) {
      g.nv++
      g.sum += row.v
      g.min = g.min === null ? row.v : Math.min(g.min, row.v)
      g.max = g.max === null ? row.v : Math.max(g.max, row.v)
    }
    groups.set(row.k, g)
  }
  return [...groups].sort(([a], [b]) => compareGroups(a, b)).map(([group, g]) => ({
    group, n: g.n, nv: g.nv, total: g.sum, lo: g.min, hi: g.max, mean: g.nv === 0 ? null : g.sum / g.nv
  }))
}

const metrics = {
  n: { op: 'count' },
  nv: { op: 'count', expr: 'record.v' },
  total: { op: 'sum', expr: 'record.v' },
  lo: { op: 'min', expr: 'record.v' },
  hi: { op: 'max', expr: 'record.v' },
  mean: { op: 'avg', expr: 'record.v' }
}

describe('aggregates', () => {
  it('match a plain computation, whatever the chunking (property)', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.record({ k: fc.constantFrom('a', 'b', 'c', null), v: fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.constant(null)) }), { maxLength: 60 }),
      fc.integer({ min: 1, max: 9 }),
      async (rows, chunk) => {
        const run = await scan({ source: { type: 'inline', records: rows }, aggregate: { group_by: 'record.k', metrics } }, ctx, { chunk })
        assert.deepEqual(run.aggregate, plain(rows))
      }), { numRuns: 40 })
  })

  it('aggregate the pipeline output of a range, with ints, and give one row without group_by', async () => {
    const run = await scan({
      source: { type: 'range', start: 0, end: 1000 },
      pipeline: [{ filter: 'record % 2 == 0' }],
      aggregate: { metrics: { n: { op: 'count' }, sum: { op: 'sum', expr: 'record' }, avg: { op: 'avg', expr: 'double(record)' }, max: { op: 'max', expr: 'record' } } }
    }, ctx, { chunk: 64 })
    assert.deepEqual(run.aggregate, [{ group: null, n: 500, sum: 249500, avg: 499, max: 998 }])
    const grouped = await scan({ source: { type: 'range', start: 0, end: 10 }, aggregate: { group_by: 'record % 3', metrics: { n: { op: 'count' } } } }, ctx)
    assert.deepEqual(grouped.aggregate, [{ group: 0, n: 4 }, { group: 1, n: 3 }, { group: 2, n: 3 }])
  })

  it('keep two scans of one thread apart when their chunks interleave', async () => {
    const rows = Array.from({ length: 50 }, (_, i) => ({ k: i % 3 === 0 ? 'a' : 'b', v: i }))
    const bodies = [
      { source: { type: 'inline', records: rows }, aggregate: { group_by: 'record.k', metrics: { n: { op: 'count' } } } },
      { source: { type: 'inline', records: rows }, aggregate: { metrics: { total: { op: 'sum', expr: 'record.v' } } } }
    ]
    const [first, second] = await Promise.all(bodies.map(async (body) => await scan(body, ctx, { chunk: 3 })))
    assert.deepEqual(first.aggregate, [{ group: 'a', n: 17 }, { group: 'b', n: 33 }])
    assert.deepEqual(second.aggregate, [{ group: null, total: 1225 }])
  })

  it('give avg null, min null and count 0 for no records', async () => {
    const run = await scan({ source: { type: 'range', start: 0, end: 0 }, aggregate: { metrics: { n: { op: 'count' }, a: { op: 'avg', expr: 'record' }, m: { op: 'min', expr: 'record' }, s: { op: 'sum', expr: 'record' } } } }, ctx)
    assert.deepEqual(run.aggregate, [{ group: null, n: 0, a: null, m: null, s: 0 }])
    const grouped = await scan({ source: { type: 'range', start: 0, end: 0 }, aggregate: { group_by: 'record', metrics: { n: { op: 'count' } } } }, ctx)
    assert.deepEqual(grouped.aggregate, [])
  })

  it('sort groups of mixed types: null, bools, numbers, strings, lists, maps', async () => {
    const records = ['b', 2, null, true, 'a', { m: 1 }, [1], 10, false, 1.5].map((g) => ({ g }))
    const run = await scan({ source: { type: 'inline', records }, aggregate: { group_by: 'record.g', metrics: { n: { op: 'count' } } } }, ctx)
    assert.deepEqual((run.aggregate as Array<{ group: unknown }>).map((row) => row.group), [null, false, true, 1.5, 2, 10, 'a', 'b', [1], { m: 1 }])
  })

  it('refuses a metric value that is not a number, naming the metric', async () => {
    await assert.rejects(scan({ source: { type: 'inline', records: [{ v: 'x' }] }, aggregate: { metrics: { s: { op: 'sum', expr: 'record.v' } } } }, ctx),
      /aggregate\.metrics\.s\.expr: must be a number, got string/)
  })

  it('folds the same with a spec and steps that came through structured clone, as worker threads get them', async () => {
    const spec = { group_by: 'record % 2', metrics: { n: { op: 'count' }, s: { op: 'sum', expr: 'record' }, lo: { op: 'min', expr: 'record' }, hi: { op: 'max', expr: 'record' }, a: { op: 'avg', expr: 'record' } } }
    const plan = await planScan(request({ source: { type: 'range', start: 0, end: 10 }, pipeline: [{ filter: 'record < 9' }, { map: 'record + 1' }], aggregate: spec }), ctx)
    const run = await runPlan({ ...plan, task: { ...plan.task, params: structuredClone(plan.task.params) } })
    assert.deepEqual(run.aggregate, [
      { group: 0, n: 4, s: 20, lo: 2, hi: 8, a: 5 },
      { group: 1, n: 5, s: 25, lo: 1, hi: 9, a: 5 }
    ])
  })

  it('folds a params object given a new id and aggregate after a failed scan by its new aggregate', async () => {
    const pool = new WorkStealingPool({ config: { max_workers: 2 } })
    try {
      const records = Array.from({ length: 200 }, (_, i) => ({ v: i === 150 ? 'x' : i }))
      const plan = await planScan(request({ source: { type: 'inline', records }, aggregate: { metrics: { n: { op: 'sum', expr: 'record.v' } } } }), ctx)
      await assert.rejects(pool.scan(plan.total, plan.task, {}), /must be a number, got string/)
      const params = plan.task.params as ScanParams
      params.id = `${params.id}-again`
      params.aggregate = { metrics: { lo: { op: 'min', expr: 'record.v' } } } as never
      params.source = { type: 'inline', records: records.slice(0, 100) } as never
      assert.deepEqual(await pool.scan(100, plan.task, {}), [{ group: null, lo: 0 }])
    } finally {
      await pool.close()
    }
  })

  it('keep partial states as JSON values that merge in any order', () => {
    const aggregation = new Aggregation({ group_by: 'record.k', metrics: { s: { op: 'sum', expr: 'record.v' }, a: { op: 'avg', expr: 'record.v' } } } as never)
    const a = aggregation.add(aggregation.add(aggregation.create(), { k: 'x', v: 1 }), { k: 'y', v: 2 })
    const b = aggregation.add(aggregation.create(), { k: 'x', v: 3 })
    const roundTrip = (s: AggregateState) => JSON.parse(JSON.stringify(s)) as AggregateState
    const ab = aggregation.finish(aggregation.merge(roundTrip(a), roundTrip(b)), true)
    const ba = aggregation.finish(aggregation.merge(roundTrip(b), roundTrip(a)), true)
    assert.deepEqual(ab, [{ group: 'x', s: 4, a: 2 }, { group: 'y', s: 2, a: 2 }])
    assert.deepEqual(ba, ab)
  })
})
