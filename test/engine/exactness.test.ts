import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import fc from 'fast-check'
import { WorkStealingPool, type SchedulerName, type WorkerMetrics } from '../../src/index.js'
import type { EngineTaskParams } from '../fixtures/engine-task.js'

const module = new URL('../fixtures/engine-task.js', import.meta.url)
const pool = new WorkStealingPool({ config: { max_workers: 4 } })
after(async () => await pool.close())

function expected (total: number, keepEvery: number): number[] {
  const out: number[] = []
  if (keepEvery === 0) return out
  for (let r = 0; r < total; r += keepEvery) out.push(r * 2)
  return out
}

async function run (scheduler: SchedulerName, total: number, workers: number, chunks: { min: number, max: number, initial: number, inflight: number }, params: EngineTaskParams, ordered: boolean): Promise<void> {
  const finals: WorkerMetrics[] = []
  const results = await pool.scan(total, { module, params: { ...params, total } }, {
    ordered,
    config: {
      scheduler,
      max_workers: workers,
      min_chunk_size: chunks.min,
      max_chunk_size: chunks.max,
      initial_chunk_size: chunks.initial,
      max_inflight_chunks_per_worker: chunks.inflight
    },
    metrics: (event, data) => { if (event === 'final_worker') finals.push(data as WorkerMetrics) }
  }) as number[]
  const want = expected(total, params.keepEvery ?? 1)
  assert.equal(results.length, want.length)
  assert.deepEqual(ordered ? results : results.slice().sort((a, b) => a - b), want)
  assert.equal(finals.length, scheduler === 'sequential' ? 1 : workers)
  assert.equal(finals.reduce((sum, w) => sum + w.records_processed, 0), total)
  for (const w of finals) assert.ok(w.p50_ms <= w.p95_ms && w.p95_ms <= w.p99_ms, JSON.stringify(w))
}

const totals = fc.oneof(
  fc.constantFrom(0, 1, 2, 3, 127, 8191, 65537, 131071),
  fc.integer({ min: 0, max: 200_000 })
)
const chunkSettings = fc.integer({ min: 1, max: 512 }).chain(min =>
  fc.integer({ min, max: 16_384 }).chain(max =>
    fc.record({ min: fc.constant(min), max: fc.constant(max), initial: fc.integer({ min, max }), inflight: fc.integer({ min: 1, max: 4 }) })))
const taskParams = fc.record({
  spin: fc.constantFrom(0, 0, 20, 100),
  keepEvery: fc.constantFrom(0, 1, 2, 7, 1000),
  shape: fc.constantFrom('uniform' as const, 'hot-start' as const, 'pareto' as const, 'ramp' as const),
  result: fc.constant('number' as const)
})

for (const scheduler of ['work_stealing', 'thread_pool', 'sequential'] as const) {
  test(`${scheduler}: every record exactly once, same results as a plain loop`, async () => {
    await fc.assert(fc.asyncProperty(totals, fc.integer({ min: 1, max: 4 }), chunkSettings, taskParams, fc.boolean(),
      async (total, workers, chunks, params, ordered) => await run(scheduler, total, workers, chunks, params, ordered)),
    { numRuns: scheduler === 'sequential' ? 25 : 60 })
  })
}

test('a few million records, each scheduler', async () => {
  for (const scheduler of ['work_stealing', 'thread_pool', 'sequential'] as const) {
    await run(scheduler, 3_000_017, 2, { min: 128, max: 8192, initial: 1000, inflight: 2 }, { keepEvery: 997 }, scheduler !== 'thread_pool')
  }
})
