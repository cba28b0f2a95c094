import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { WorkStealingPool, type ProgressEvent } from '../../src/index.js'
import { ParallelConfig } from '../../src/parallel/parallel-config.js'
import { SharedScanState } from '../../src/parallel/shared-scan-state.js'
import type { EngineTaskParams } from '../fixtures/engine-task.js'
import { threadSession } from '../helpers/thread-session.js'

const module = new URL('../fixtures/engine-task.js', import.meta.url)
const dir = mkdtempSync(join(tmpdir(), 'parascan-crash-'))
const pools: WorkStealingPool[] = []
after(async () => {
  await Promise.all(pools.map(async (pool) => await pool.close()))
  rmSync(dir, { recursive: true, force: true })
})

function poolOf (workers: number, chunk = 10): WorkStealingPool {
  const pool = new WorkStealingPool({ config: { max_workers: workers, min_chunk_size: chunk, initial_chunk_size: chunk, max_chunk_size: chunk } })
  pools.push(pool)
  return pool
}

function exactlyOnce (results: number[], total: number): void {
  const seen = new Uint8Array(total)
  for (const value of results) seen[value / 2]++
  const wrong = seen.findIndex(count => count !== 1)
  assert.equal(wrong, -1, `record ${wrong} seen ${seen[wrong]} times`)
  assert.equal(results.length, total)
}

let markers = 0
const marker = (): string => join(dir, `crash-${++markers}`)

test('a crash early in a scan that runs 30 s more on the other thread costs the dead thread\'s uncommitted records only', async () => {
  const pool = poolOf(2)
  const total = 6_400
  const progress: ProgressEvent[] = []
  const began = performance.now()
  const params: EngineTaskParams = { crashAt: 5, crashMarker: marker(), fetchSleepMs: 100 }
  const results = await pool.scan(total, { module, params }, { metrics: (event, data) => { if (event === 'progress') progress.push(data as ProgressEvent) }, progress_interval_ms: 500 })
  const ms = performance.now() - began
  assert.ok(ms >= 30_000, `the scan took ${ms} ms`)
  exactlyOnce(results as number[], total)
  const last = progress.at(-1) as ProgressEvent
  assert.equal(last.processed, total)
  assert.ok(last.rerun >= 1 && last.rerun <= 10, `${last.rerun} records run again`)
})

test('every thread dying once is survived with 4 threads; the records run again are counted in the summary', async () => {
  const pool = poolOf(4)
  const total = 4_000
  const items: number[] = []
  const summary = await pool.stream(total, { module, params: { crashAtEach: [10, 1_010, 2_010, 3_010], crashMarker: marker() } }, {
    onBatch: ({ json }) => { items.push(...JSON.parse(json) as number[]) }
  })
  exactlyOnce(items, total)
  assert.equal(summary.processed, total)
  assert.ok(summary.rerun >= 4, `${summary.rerun} records run again`)
  assert.equal(summary.workers.reduce((sum, w) => sum + w.records_processed, 0), total)
})

test('a thread that crashes every time fails the scan once the limit, which grows with the threads, is passed; the message says what it is', async () => {
  const pool = poolOf(2)
  await assert.rejects(pool.scan(1_000, { module, params: { crashAt: 500 } }), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'PARASCAN_WORKER_CRASHED')
    assert.match(error.message, /7 exits, more than the limit of 6 \(3 per thread\)/)
    assert.match(error.message, /\[500, /)
    return true
  })
  assert.equal((await pool.scan(100, { module })).length, 100)
})

test('records run again do not count as started twice: after a crash the started count ends at total', async () => {
  const total = 20_000
  const config = new ParallelConfig({ max_workers: 2, min_chunk_size: 16, initial_chunk_size: 64, max_chunk_size: 64 })
  const state = new SharedScanState(new SharedArrayBuffer(SharedScanState.bytesFor(2)), 2)
  const { session, terminate } = await threadSession(
    { total, moduleUrl: module.href, params: { crashAt: 200, crashMarker: marker() }, config, state }, { reportExits: true })
  try {
    const { summary } = await session.run()
    assert.equal(summary.processed, total)
    assert.ok(summary.rerun > 0)
    assert.equal(state.started, total)
  } finally {
    await terminate()
  }
})

test('the started counter is 64 bits wide: it does not wrap past 2^31', () => {
  const state = new SharedScanState(new SharedArrayBuffer(SharedScanState.bytesFor(1)), 1)
  state.addStarted(2 ** 31 - 10)
  state.addStarted(100)
  assert.equal(state.started, 2 ** 31 + 90)
  state.addStarted(-100)
  assert.equal(state.started, 2 ** 31 - 10)
})

test('a crash right at the start, before any thread took a range, is recovered', async () => {
  const pool = poolOf(2)
  const results = await pool.scan(2_000, { module, params: { crashAtEach: [0, 1_000], crashMarker: marker() } })
  exactlyOnce(results as number[], 2_000)
})

test('thread_pool: a crash hands the dead thread\'s claimed, uncommitted records to its replacement while the other thread goes on', async () => {
  const pool = new WorkStealingPool({ config: { max_workers: 2, scheduler: 'thread_pool', min_chunk_size: 10, initial_chunk_size: 10, max_chunk_size: 10 } })
  pools.push(pool)
  const total = 3_000
  const summary = await pool.stream(total, { module, params: { crashAt: 25, crashMarker: marker(), fetchSleepMs: 2 } }, { onBatch: () => {} })
  assert.equal(summary.processed, total)
  assert.ok(summary.rerun >= 1 && summary.rerun <= 10 * 14, `${summary.rerun}`)
})

test('exits of pool threads a sequential scan does not use are not its business: no second runner, no duplicates', async () => {
  const pool = poolOf(2, 100)
  await pool.scan(1_000, { module, params: { lateThrowMs: 300 } })
  const total = 20_000
  const results = await pool.scan(total, { module, params: { fetchSleepMs: 5 } }, { config: { scheduler: 'sequential' } })
  exactlyOnce(results as number[], total)
  assert.equal((await pool.scan(1_000, { module })).length, 1_000, 'the dead threads are replaced for the next scan')
})

for (const stop of ['abort', 'close'] as const) {
  test(`${stop} right after a crash, while the replacement starts, settles at once and leaves nothing running`, async () => {
    const pool = poolOf(2)
    const controller = new AbortController()
    const scan = pool.scan(4_000, { module, params: { crashAt: 15, crashMarker: marker(), fetchSleepMs: 5 } }, {
      signal: controller.signal,
      metrics: (event, data) => {
        if (event === 'progress' && (data as ProgressEvent).rerun > 0) {
          if (stop === 'abort') controller.abort()
          else void pool.close()
        }
      },
      progress_interval_ms: 5
    }).catch((error: unknown) => error as Error & { code?: string })
    const began = performance.now()
    const outcome = await scan as Error & { code?: string }
    assert.equal(outcome.code, stop === 'abort' ? 'PARASCAN_ABORTED' : 'PARASCAN_POOL_CLOSED')
    assert.ok(performance.now() - began < 5_000)
    if (stop === 'abort') assert.equal((await pool.scan(100, { module })).length, 100)
    else await pool.close()
  })
}
