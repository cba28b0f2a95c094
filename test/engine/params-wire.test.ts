import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { inspect, isDeepStrictEqual } from 'node:util'
import fc from 'fast-check'
import { WorkStealingPool } from '../../src/index.js'
import { fromWire, toWire } from '../../src/parallel/params-wire.js'
import type { ScanSpec } from '../../src/parallel/worker-protocol.js'

const module = new URL('../fixtures/engine-params-task.js', import.meta.url)
const pool = new WorkStealingPool({ config: { max_workers: 2 } })
after(async () => await pool.close())

/** `values` with a hole at `at`. */
function holey (values: unknown[], at: number): unknown[] {
  const out = values.slice()
  delete out[at]
  return out
}
const specOf = (params: unknown): ScanSpec => ({ params } as unknown as ScanSpec)
const overWire = (params: unknown): unknown => fromWire(structuredClone(toWire(specOf(params)))).params

/** Values structured clone can carry, with the ones JSON would change: -0, NaN, undefined, holes, dates, maps, big integers. */
const cloneable = fc.letrec(tie => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom(-0, NaN, Infinity, undefined, 2n ** 70n, new Date(0), new Map([[1, 2]]), new Uint8Array([1, 2]), holey([1, 2, 3], 1)),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 4 }), tie('value'), { maxKeys: 4 })
  )
})).value

test('params reach a thread as structured clone would give them, whether or not they travel as JSON', () => {
  fc.assert(fc.property(cloneable, params => {
    assert.ok(isDeepStrictEqual(overWire(params), structuredClone(params)), inspect(params))
  }), { numRuns: 500 })
})

test('plain JSON params travel as JSON text', () => {
  for (const params of [{ spin: 81, shape: 'uniform' }, [1, 'a', null, { b: [true] }], { nested: { deeper: { list: [0.5, -3] } } }, Object.assign(Object.create(null), { a: 1 })]) {
    const wire = toWire(specOf(params))
    assert.equal(wire.params, undefined)
    assert.equal(wire.paramsJson, JSON.stringify(params))
  }
})

test('params JSON would change go by structured clone', () => {
  const cycle: Record<string, unknown> = {}
  cycle.self = cycle
  class Point { x = 1 }
  for (const params of [{ a: -0 }, { a: NaN }, { a: undefined }, holey([1, 2, 3], 1), Object.assign([1], { extra: 2 }), { when: new Date(0) }, { big: 1n }, { gate: new SharedArrayBuffer(4) }, cycle, new Point(), 'text', 42, null, undefined]) {
    const wire = toWire(specOf(params))
    assert.equal(wire.paramsJson, undefined, inspect(params))
    assert.equal(wire.params, params)
  }
})

test('a task in a worker thread sees its params as the caller passed them, JSON or not', async () => {
  for (const params of [{ spin: 0, label: 'plain', list: [1, 2, { x: 'y' }] }, { spin: 0, zero: -0, missing: undefined, when: new Date(86_400_000), big: 5n }]) {
    const results = await pool.scan(64, { module, params }) as string[]
    assert.equal(results.length, 64)
    for (const seen of results) assert.equal(seen, inspect(structuredClone(params), { depth: null }))
  }
})
