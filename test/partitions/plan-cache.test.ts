import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { ScanPlanCache } from '../../workers/scan-plan-cache.js'
import type { ScanPlan } from '../../src/pipeline/plan-scan.js'

const planOf = (total: number): ScanPlan => ({ total, task: { module: 'task.js', params: { id: String(total), source: { type: 'range', start: 0, end: total }, steps: [] } }, ordered: false, on_error: 'fail' })

test('a scan\'s partitions share the plan of its split; fresh plans again; a failed plan is not kept', async () => {
  const cache = new ScanPlanCache(2)
  let planned = 0
  const plan = async (): Promise<ScanPlan> => planOf(++planned)
  assert.equal((await cache.fresh('a', plan)).total, 1)
  assert.equal((await cache.get('a', plan)).total, 1)
  assert.equal((await cache.get('a', plan)).total, 1)
  assert.equal((await cache.fresh('a', plan)).total, 2)
  assert.equal((await cache.get('a', plan)).total, 2)
  await assert.rejects(cache.fresh('b', async () => { throw new Error('file gone') }), /file gone/)
  assert.equal(cache.size, 1)
  assert.equal((await cache.get('b', plan)).total, 3)
  cache.forget('a')
  assert.equal((await cache.get('a', plan)).total, 4)
})

test('the cache never holds more than its bound, and keeps the most recently used plans', async () => {
  await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 5 }), fc.array(fc.tuple(fc.integer({ min: 0, max: 8 }), fc.constantFrom('get', 'fresh', 'forget')), { maxLength: 60 }), async (bound, calls) => {
    const cache = new ScanPlanCache(bound)
    const model: string[] = []
    for (const [n, call] of calls) {
      const id = String(n)
      const at = model.indexOf(id)
      if (at !== -1) model.splice(at, 1)
      if (call === 'forget') {
        cache.forget(id)
        continue
      }
      await cache[call](id, async () => planOf(n))
      model.push(id)
      if (model.length > bound) model.shift()
      assert.ok(cache.size <= bound)
      assert.equal(cache.size, model.length)
    }
  }))
})
