import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { WorkStealingPool } from '../../src/index.js'
import { subtractRanges } from '../../src/parallel/interval-set.js'
import { SharedScanState } from '../../src/parallel/shared-scan-state.js'

const module = new URL('../fixtures/engine-task.js', import.meta.url)
const dir = mkdtempSync(join(tmpdir(), 'parascan-recovery-'))
const pools: WorkStealingPool[] = []
after(async () => {
  await Promise.all(pools.map(async (pool) => await pool.close()))
  rmSync(dir, { recursive: true, force: true })
})

function exactlyOnce (results: number[], total: number): void {
  assert.equal(results.length, total)
  const seen = new Uint8Array(total)
  for (const value of results) seen[value / 2]++
  const wrong = seen.findIndex(count => count !== 1)
  assert.equal(wrong, -1, `record ${wrong} seen ${seen[wrong]} times`)
}

for (const workers of [1, 2]) {
  test(`thread_pool with ${workers} thread(s): records past the cursor are not handed out twice after a crash`, async () => {
    const pool = new WorkStealingPool({ config: { max_workers: workers, scheduler: 'thread_pool', min_chunk_size: 16, max_chunk_size: 64, initial_chunk_size: 16 } })
    pools.push(pool)
    const total = 20_000
    const results = await pool.scan(total, { module, params: { crashAt: 1_000, crashMarker: join(dir, `thread-pool-${workers}`) } }) as number[]
    exactlyOnce(results, total)
  })
}

test('a signal that aborts while the task module loads stops the scan', async () => {
  const pool = new WorkStealingPool({ config: { max_workers: 2 } })
  pools.push(pool)
  const controller = new AbortController()
  ;(globalThis as { onEngineTaskLoad?: () => void }).onEngineTaskLoad = () => controller.abort()
  try {
    await assert.rejects(pool.scan(200_000, { module: new URL('../fixtures/engine-load-hook-task.js', import.meta.url) }, { signal: controller.signal }),
      { code: 'PARASCAN_ABORTED', name: 'AbortError' })
  } finally {
    delete (globalThis as { onEngineTaskLoad?: () => void }).onEngineTaskLoad
  }
  assert.equal((await pool.scan(10, { module })).length, 10)
})

test('params that cannot be sent to a thread reject the scan with a clear error, and the pool goes on', async () => {
  const pool = new WorkStealingPool({ config: { max_workers: 2 } })
  pools.push(pool)
  let progress = 0
  await assert.rejects(pool.scan(1000, { module, params: { keepEvery: 1, callback: () => 1 } }, { metrics: () => { progress++ }, progress_interval_ms: 1 }), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'PARASCAN_INVALID_OPTION')
    assert.match(error.message, /params/)
    return true
  })
  assert.deepEqual(await pool.scan(5, { module }, { ordered: true }), [0, 2, 4, 6, 8])
  const before = progress
  await new Promise(resolve => setTimeout(resolve, 20))
  assert.equal(progress, before, 'the failed scan emits no more progress')
})

test('ranges left in a dead thread\'s deque are read back, and a pop cut short is repaired', () => {
  const state = new SharedScanState(new SharedArrayBuffer(SharedScanState.bytesFor(2)), 2)
  state.push(1, 100, 50)
  state.push(1, 300, 25)
  state.push(1, 500, 10)
  assert.equal(state.steal(1), 1)
  assert.deepEqual(state.queued(1), [[300, 325], [500, 510]])
  assert.equal(state.pop(1), 1)
  assert.equal(state.pop(1), 1)
  assert.deepEqual(state.queued(1), [])
  const cut = new SharedScanState(new SharedArrayBuffer(SharedScanState.bytesFor(2)), 2)
  for (let k = 0; k < 7; k++) cut.push(1, 1000 + 100 * k, 100)
  const bottom = cut.i32.indexOf(7)
  for (let k = 0; k < 7; k++) assert.equal(cut.steal(1), 1)
  cut.i32[bottom] = 6
  assert.deepEqual(cut.queued(1), [], 'a bottom below top reads as empty')
  cut.push(1, 700, 5)
  assert.deepEqual(cut.queued(1), [[700, 705]], 'and is raised to top, so a push is seen again')
})

test('subtracting ranges', () => {
  assert.deepEqual(subtractRanges([[0, 100], [200, 300]], [[250, 260], [0, 10], [90, 210]]), [[10, 90], [210, 250], [260, 300]])
  assert.deepEqual(subtractRanges([[0, 10]], []), [[0, 10]])
  assert.deepEqual(subtractRanges([[0, 10]], [[0, 10]]), [])
  assert.deepEqual(subtractRanges([[5, 10]], [[0, 6], [8, 20]]), [[6, 8]])
})
