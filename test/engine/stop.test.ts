import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { WorkStealingPool } from '../../src/index.js'
import type { EngineTaskParams } from '../fixtures/engine-task.js'

const module = new URL('../fixtures/engine-task.js', import.meta.url)
const pool = new WorkStealingPool({ config: { max_workers: 2 } })
after(async () => { await pool.close() })

function scan (total: number, params: EngineTaskParams, options: Parameters<WorkStealingPool['scan']>[2] = {}): Promise<unknown[]> {
  return pool.scan(total, { module, params: { total, ...params } }, options)
}

for (const scheduler of ['work_stealing', 'thread_pool'] as const) {
  test(`${scheduler}: an abort settles even when process() never returns, and the pool keeps working`, async () => {
    // Threads already started: on a busy machine a first start alone can take longer than the abort below.
    await scan(1000, {}, { config: { scheduler } })
    const signal = AbortSignal.timeout(200)
    const started = performance.now()
    await assert.rejects(scan(100_000, { hangAt: 10 }, { config: { scheduler }, signal, stop_grace_ms: 300 }), { code: 'PARASCAN_ABORTED' })
    const took = performance.now() - started
    assert.ok(took >= 450 && took < 5000, `settled after ${took} ms`)
    const results = await scan(10_000, {}, { config: { scheduler } })
    assert.equal(results.length, 10_000)
  })

  test(`${scheduler}: a failure elsewhere settles while another thread is stuck in process()`, async () => {
    await assert.rejects(scan(100_000, { hangAt: 10, failProcessAt: 90_000 }, { config: { scheduler }, stop_grace_ms: 200 }),
      { code: 'PARASCAN_RECORD_FAILED', offset: 90_000 })
    assert.equal((await scan(5_000, {}, { config: { scheduler } })).length, 5_000)
  })
}

test('stop_grace_ms must be a number >= 1', async () => {
  await assert.rejects(scan(10, {}, { stop_grace_ms: 0 }), { code: 'PARASCAN_INVALID_OPTION', message: /stop_grace_ms/ })
})
