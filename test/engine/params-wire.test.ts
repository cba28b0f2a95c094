import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { inspect, isDeepStrictEqual } from 'node:util'
import fc from 'fast-check'
import { WorkStealingPool } from '../../src/index.js'
import { batchToWire, fromWire, toWire } from '../../src/parallel/params-wire.js'
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
// eslint-disable-next-line prefer-rest-params
const argumentsOf = function (..._: unknown[]): object { return arguments }
const specOf = (params: unknown): ScanSpec => ({ params } as unknown as ScanSpec)
const overWire = (params: unknown): unknown => fromWire(structuredClone(toWire(specOf(params)))).params

/** Whether `a` and `b` hold the same objects in the same places (an object found twice in one is found twice in the other), their keys in the same order. */
function sameSharing (a: unknown, b: unknown, pairs = new Map<object, unknown>()): boolean {
  if (a === null || typeof a !== 'object') return true
  if (b === null || typeof b !== 'object') return false
  if (pairs.has(a)) return pairs.get(a) === b
  pairs.set(a, b)
  const keys = Reflect.ownKeys(a)
  return isDeepStrictEqual(keys, Reflect.ownKeys(b)) && keys.every(key => sameSharing((a as Record<PropertyKey, unknown>)[key], (b as Record<PropertyKey, unknown>)[key], pairs))
}

const awkwardKey = fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('__proto__', 'constructor', 'toJSON', '0', '1', '10', '-1', '01', '4294967295', '9007199254740993', '\ud800', '\udc00x'))
const awkwardJson = fc.constantFrom(1e21, 5e-324, -Number.MAX_VALUE, 2 ** 53 + 2, -1e-7, 0.1 + 0.2, '\ud800', 'a\udc00', '\u2028</script>', '')

/** Values structured clone can carry, with the ones JSON would change: -0, NaN, undefined, holes, dates, maps, big integers. */
const cloneable = fc.letrec(tie => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.jsonValue({ maxDepth: 2 }),
    awkwardJson,
    fc.constantFrom(-0, NaN, Infinity, undefined, 2n ** 70n, new Date(0), new Map([[1, 2]]), new Uint8Array([1, 2]), holey([1, 2, 3], 1)),
    fc.constantFrom(...[new Date(0), new Map([[1, 2]]), new Uint8Array([1, 2]), new Error('e'), new Boolean(false), /x/g].map(builtin => Object.setPrototypeOf(builtin, Object.prototype) as unknown)),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.tuple(fc.array(fc.tuple(awkwardKey, tie('value')), { maxLength: 4 }), fc.boolean(), fc.boolean()).map(([entries, bare, frozen]) => {
      const object = Object.fromEntries(entries)
      if (bare) Object.setPrototypeOf(object, null)
      return frozen ? Object.freeze(object) : object
    })
  )
})).value

test('params reach a thread as structured clone would give them, whether or not they travel as JSON', () => {
  fc.assert(fc.property(cloneable, params => {
    const seen = overWire(params)
    const cloned = structuredClone(params)
    assert.ok(isDeepStrictEqual(seen, cloned), inspect(params))
    assert.ok(sameSharing(cloned, seen), inspect(params))
  }), { numRuns: 1000 })
})

test('plain JSON params travel as JSON text', () => {
  for (const params of [{ spin: 81, shape: 'uniform' }, [1, 'a', null, { b: [true] }], { nested: { deeper: { list: [0.5, -3] } } }, Object.assign(Object.create(null), { a: 1 })]) {
    const wire = toWire(specOf(params))
    assert.equal(wire.params, undefined)
    assert.equal(wire.paramsJson, JSON.stringify(params))
  }
})

test('params of more than 1000 properties and elements go by structured clone: checking them would cost more than it saves', () => {
  const settings = { list: Array.from({ length: 900 }, (_, i) => i), name: 'small enough' }
  assert.equal(toWire(specOf(settings)).paramsJson, JSON.stringify(settings))
  for (const params of [{ rows: Array.from({ length: 2000 }, (_, i) => ({ id: i })) }, { list: Array.from({ length: 1001 }, (_, i) => i) }, Object.fromEntries(Array.from({ length: 1200 }, (_, i) => [`k${i}`, i]))]) {
    const wire = toWire(specOf(params))
    assert.equal(wire.paramsJson, undefined)
    assert.ok(isDeepStrictEqual(overWire(params), structuredClone(params)))
  }
})

test('params made by JSON.parse travel as JSON text, whatever their keys and strings', () => {
  const key = fc.oneof(fc.string({ unit: 'binary', maxLength: 6 }), awkwardKey)
  const json = fc.letrec(tie => ({
    value: fc.oneof({ depthSize: 'small' }, fc.jsonValue({ maxDepth: 1 }), awkwardJson, fc.array(tie('value'), { maxLength: 4 }), fc.array(fc.tuple(key, tie('value')), { maxLength: 4 }).map(entries => Object.fromEntries(entries)))
  })).value.filter(value => value !== null && typeof value === 'object')
  fc.assert(fc.property(json, value => {
    const params = JSON.parse(JSON.stringify(value))
    assert.equal(toWire(specOf(params)).paramsJson, JSON.stringify(params))
    assert.ok(isDeepStrictEqual(overWire(params), structuredClone(params)))
    assert.ok(sameSharing(structuredClone(params), overWire(params)))
  }), { numRuns: 500 })
})

test('params JSON would change go by structured clone', async () => {
  const cycle: Record<string, unknown> = {}
  cycle.self = cycle
  class Point { x = 1 }
  const shared = { x: 1 }
  for (const params of [
    { a: -0 }, { a: NaN }, { a: undefined }, holey([1, 2, 3], 1), Object.assign([1], { extra: 2 }), Object.assign(holey([1, 2, 3], 1), { extra: 2 }),
    { when: new Date(0) }, { big: 1n }, { gate: new SharedArrayBuffer(4) }, cycle, new Point(), 'text', 42, null, undefined,
    { a: shared, b: [shared] }, { get a () { return 1 } }, Object.defineProperty([1, 2], 0, { get: () => 1, enumerable: true }), { inner: new Proxy({ a: 1 }, {}) },
    Object.setPrototypeOf(new Date(0), Object.prototype), Object.setPrototypeOf(new Map([[1, 2]]), null), Object.setPrototypeOf(new Uint8Array([1]), Object.prototype),
    argumentsOf(1, 'a'), await import('data:text/javascript,export const a = 1' as string) as object
  ]) {
    const wire = toWire(specOf(params))
    assert.equal(wire.paramsJson, undefined, inspect(params))
    assert.equal(wire.params, params)
  }
})

test('a batch of specs posted at once decides once per params object', () => {
  const wire = batchToWire()
  const params: Record<string, unknown> = { a: 1 }
  assert.equal(wire(specOf(params)).paramsJson, '{"a":1}')
  params.a = 2
  assert.equal(wire(specOf(params)).paramsJson, '{"a":1}', 'nothing can change params between the posts of one batch')
  const other = { when: new Date(0) }
  assert.equal(wire(specOf(other)).params, other)
  assert.equal(wire(specOf(params)).paramsJson, '{"a":2}')
  assert.equal(toWire(specOf(params)).paramsJson, '{"a":2}')
})

test('a task in a worker thread sees its params as the caller passed them, JSON or not', async () => {
  for (const params of [{ spin: 0, label: 'plain', list: [1, 2, { x: 'y' }] }, { spin: 0, zero: -0, missing: undefined, when: new Date(86_400_000), big: 5n }]) {
    const results = await pool.scan(64, { module, params }) as string[]
    assert.equal(results.length, 64)
    for (const seen of results) assert.equal(seen, inspect(structuredClone(params), { depth: null }))
  }
})

test('objects found twice in params arrive shared, as structured clone keeps them', () => {
  const object = cloneable.filter(value => value !== null && typeof value === 'object')
  fc.assert(fc.property(object, cloneable, (shared, other) => {
    const params = { a: shared, list: [other, shared], nested: { b: shared } }
    const seen = overWire(params) as typeof params
    assert.ok(isDeepStrictEqual(seen, structuredClone(params)), inspect(params))
    assert.ok(sameSharing(structuredClone(params), seen), inspect(params))
    assert.equal(seen.a, seen.nested.b)
  }), { numRuns: 200 })
})

test('deciding how params travel runs none of the caller\'s code: no getter, Proxy trap or toJSON', () => {
  fc.assert(fc.property(cloneable, fc.string({ maxLength: 4 }), (value, key) => {
    let reads = 0
    const params = Object.defineProperty({ plain: [1, 'a'] }, key, { get: () => { reads++; return value }, enumerable: true })
    toWire(specOf(params))
    assert.equal(reads, 0)
    const seen = overWire(params)
    assert.equal(reads, 1, 'read once, by the structured clone that posting the spec makes')
    assert.ok(isDeepStrictEqual(seen, structuredClone(params)), inspect(params))
  }), { numRuns: 300 })

  const traps: string[] = []
  const handler = Object.fromEntries(['get', 'ownKeys', 'getOwnPropertyDescriptor', 'getPrototypeOf', 'has'].map(trap =>
    [trap, (...args: unknown[]) => { traps.push(trap); return (Reflect as unknown as Record<string, (...a: unknown[]) => unknown>)[trap](...args) }]))
  for (const params of [new Proxy({ a: 1 }, handler), { list: [new Proxy([1], handler)] }]) {
    toWire(specOf(params))
    assert.deepEqual(traps, [])
    assert.throws(() => structuredClone(params), { name: 'DataCloneError' })
    assert.throws(() => overWire(params), { name: 'DataCloneError' }, 'a Proxy cannot be sent, as structured clone says')
  }

  let calls = 0
  const prototype = Object.prototype as { toJSON?: () => unknown }
  prototype.toJSON = function (this: unknown) { calls++; return this }
  try {
    const params = { a: 1, list: [{ b: 'c' }] }
    assert.ok(isDeepStrictEqual(overWire(params), structuredClone(params)))
    assert.equal(calls, 0)
  } finally {
    delete prototype.toJSON
  }
})

test('params changed after a scan reach the threads as they are at the next scan', async () => {
  const params: Record<string, unknown> = { spin: 0, label: 'first', list: [1, { x: 'y' }] }
  const check = async (): Promise<void> => {
    const results = await pool.scan(64, { module, params }) as string[]
    assert.equal(results.length, 64)
    for (const seen of results) assert.equal(seen, inspect(structuredClone(params), { depth: null }))
  }
  await check()
  params.label = 'second'
  await check()
  ;(params.list as unknown[]).push('deeper')
  await check()
  params.when = new Date(0)
  await check()
  delete params.when
  params.label = 'third'
  await check()
})

test('a getter in params is read once per thread, as structured clone reads it', async () => {
  let reads = 0
  const params = { spin: 0, get n () { return ++reads } }
  const results = await pool.scan(64, { module, params }) as string[]
  assert.ok(reads >= 1 && reads <= 2, `read ${reads} times for 2 threads`)
  for (const seen of results) assert.ok(Array.from({ length: reads }, (_, i) => inspect({ spin: 0, n: i + 1 })).includes(seen), seen)
})

test('a Proxy in params rejects the scan, as structured clone cannot send it', async () => {
  await assert.rejects(pool.scan(64, { module, params: { spin: 0, inner: new Proxy({ a: 1 }, {}) } }), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'PARASCAN_INVALID_OPTION')
    assert.match(error.message, /params/)
    return true
  })
  assert.equal((await pool.scan(8, { module, params: { spin: 0 } })).length, 8)
})
