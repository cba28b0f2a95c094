import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import fc from 'fast-check'
import { WorkStealingPool, type SchedulerName } from '../../src/index.js'
import type { CollectTaskParams } from '../fixtures/engine-collect-task.js'

const module = new URL('../fixtures/engine-collect-task.js', import.meta.url)
const pool = new WorkStealingPool({ config: { max_workers: 2 } })
after(async () => { await pool.close() })

const schedulers: SchedulerName[] = ['work_stealing', 'thread_pool', 'sequential']

test('collect hands over the same results, skips and error offsets as process would, under every scheduler', async () => {
  await fc.assert(fc.asyncProperty(
    fc.integer({ min: 0, max: 3_000 }),
    fc.integer({ min: 1, max: 7 }),
    fc.option(fc.integer({ min: 1, max: 400 }), { nil: undefined }),
    fc.constantFrom(...schedulers),
    fc.boolean(),
    fc.integer({ min: 1, max: 300 }),
    async (total, keepEvery, failEvery, scheduler, ordered, chunk) => {
      const params: CollectTaskParams = { keepEvery, failEvery }
      const items: number[] = []
      const summary = await pool.stream(total, { module, params }, {
        config: { scheduler, min_chunk_size: 1, initial_chunk_size: chunk, max_chunk_size: chunk },
        ordered,
        on_error: 'skip',
        max_error_samples: 1_000_000,
        onBatch: ({ json }) => { items.push(...JSON.parse(json) as number[]) }
      })
      const failed = (r: number): boolean => failEvery !== undefined && r % failEvery === 0
      const offsets = Array.from({ length: total }, (_, r) => r)
      assert.deepEqual(ordered ? items : items.sort((a, b) => a - b), offsets.filter(r => !failed(r) && r % keepEvery === 0).map(r => r * 2))
      assert.equal(summary.processed, total)
      assert.equal(summary.matched, items.length)
      assert.equal(summary.skipped, offsets.filter(failed).length)
      assert.deepEqual(summary.errors.map(e => e.offset).sort((a, b) => a - b), offsets.filter(failed))
      for (const error of summary.errors) assert.equal(error.message, `bad record ${error.offset}`)
    }
  ), { numRuns: 40 })
})

for (const scheduler of schedulers) {
  test(`${scheduler}: a record that fails in collect's chunk fails the scan with its own offset`, async () => {
    await assert.rejects(pool.scan(2_000, { module, params: { failEvery: 1_500 } satisfies CollectTaskParams }, { config: { scheduler } }), (error: Error & { code?: string, offset?: number }) => {
      assert.equal(error.code, 'PARASCAN_RECORD_FAILED')
      assert.ok(error.offset === 0 || error.offset === 1_500, String(error.offset))
      assert.match(error.message, new RegExp(`offset ${error.offset}`))
      return true
    })
  })

  for (const badCollect of ['below', 'beyond', 'fraction', 'throw'] as const) {
    test(`${scheduler}: a collect that ${badCollect === 'throw' ? 'throws' : `returns an index ${badCollect === 'fraction' ? 'that is not an integer' : badCollect === 'below' ? 'before where it started' : 'past the chunk'}`} fails the scan as a broken task module`, async () => {
      const params: CollectTaskParams = { badCollect, failEvery: 7 }
      await assert.rejects(pool.scan(500, { module, params }, { config: { scheduler }, on_error: 'skip' }), (error: Error & { code?: string }) => {
        assert.equal(error.code, 'PARASCAN_TASK_MODULE')
        assert.match(error.message, badCollect === 'throw' ? /collect is broken/ : /collect returned/)
        return true
      })
      assert.equal((await pool.scan(500, { module }, { config: { scheduler } })).length, 500)
    })
  }
}

for (const scheduler of ['work_stealing', 'thread_pool'] as const) {
  test(`${scheduler}: a record stuck inside fetch past record_time_limit_ms fails with its own offset`, async () => {
    await assert.rejects(pool.scan(3_000, { module, params: { hangAt: 2_345 } satisfies CollectTaskParams }, { config: { scheduler }, record_time_limit_ms: 300 }), (error: Error & { code?: string, offset?: number }) => {
      assert.equal(error.code, 'PARASCAN_RECORD_TIME_LIMIT')
      assert.equal(error.offset, 2_345)
      return true
    })
    assert.equal((await pool.scan(100, { module }, { config: { scheduler } })).length, 100)
  })
}

test('a collect export that is not a function is refused when the module loads', async () => {
  const url = `data:text/javascript,export function fetch (o, n) { return new Array(n).fill(0) } export function process (r) { return r } export const collect = 1`
  await assert.rejects(pool.scan(10, { module: url }), { code: 'PARASCAN_TASK_MODULE', message: /collect is not a function/ })
})
