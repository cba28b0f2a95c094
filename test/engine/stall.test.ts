import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ParallelConfig } from '../../src/parallel/parallel-config.js'
import type { SessionResult } from '../../src/parallel/scan-session.js'
import { SharedScanState } from '../../src/parallel/shared-scan-state.js'
import type { ParallelConfigOptions } from '../../src/parallel/types.js'
import { threadSession } from '../helpers/thread-session.js'

const moduleUrl = new URL('../fixtures/engine-task.js', import.meta.url).href

/**
 * Runs one scan on real pool threads. `tamper` runs in the main thread after
 * the session has seeded the shared state and before any thread starts, so it
 * can break the engine's bookkeeping the way a bug would.
 */
async function scanWith (total: number, config: ParallelConfigOptions, tamper: (state: SharedScanState) => void): Promise<{ outcome: SessionResult | Error, ms: number }> {
  const parallel = new ParallelConfig(config)
  const state = new SharedScanState(new SharedArrayBuffer(SharedScanState.bytesFor(parallel.max_workers)), parallel.max_workers)
  const { session, terminate } = await threadSession({ total, moduleUrl, params: { keepEvery: 1 }, config: parallel, state },
    { beforeStart: (slot) => { if (slot === 0) tamper(state) } })
  const began = performance.now()
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<Error>(resolve => { timer = setTimeout(() => resolve(new Error('the scan neither ended nor failed within 10 s')), 10_000) })
  try {
    const outcome = await Promise.race([session.run().catch((error: unknown) => error as Error), deadline])
    return { outcome, ms: performance.now() - began }
  } finally {
    clearTimeout(timer)
    await terminate()
  }
}

test('records that no deque holds any more fail the scan with PARASCAN_STALLED naming them, instead of a hang', async () => {
  const { outcome } = await scanWith(10_000, { max_workers: 2 }, (state) => {
    assert.equal(state.pop(0), 1)
    assert.deepEqual([state.takenOffset, state.takenCount], [0, 5_000])
  })
  assert.ok(outcome instanceof Error, 'the scan must fail')
  assert.equal((outcome as Error & { code?: string }).code, 'PARASCAN_STALLED')
  assert.match(outcome.message, /records \[0, 5000\) were never committed/)
})

test('a remaining count that is too high ends the scan once every record is committed exactly once', async () => {
  const total = 10_000
  const { outcome } = await scanWith(total, { max_workers: 2 }, (state) => state.setRemaining(state.remaining + 7))
  assert.ok(!(outcome instanceof Error), String(outcome))
  assert.equal(outcome.summary.processed, total)
  assert.deepEqual((outcome.results as number[]).sort((a, b) => a - b), Array.from({ length: total }, (_, i) => i * 2))
})

test('a lone thread does not sleep waiting for records nobody can bring: the scan ends at once as incomplete', async () => {
  const { outcome, ms } = await scanWith(10_000, { max_workers: 1 }, (state) => state.setRemaining(state.remaining + 7))
  assert.ok(!(outcome instanceof Error), String(outcome))
  assert.ok(ms < 2_000, `took ${ms} ms: the thread slept instead of reporting back`)
  const dropped = await scanWith(10_000, { max_workers: 1 }, (state) => { state.pop(0) })
  assert.equal((dropped.outcome as Error & { code?: string }).code, 'PARASCAN_INCOMPLETE')
})

test('records committed twice never pass for a whole scan, even when the count adds up', async () => {
  const { outcome } = await scanWith(10_000, { max_workers: 2 }, (state) => {
    state.pop(0)
    state.push(0, 5_000, 5_000)
  })
  assert.ok(outcome instanceof Error, 'the scan must fail')
  assert.equal((outcome as Error & { code?: string }).code, 'PARASCAN_INCOMPLETE')
  assert.match(outcome.message, /\[0, 5000\) never committed/)
})
