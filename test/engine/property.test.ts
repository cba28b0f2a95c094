import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import fc from 'fast-check'
import { WorkStealingPool, type SchedulerName, type ScanSummary } from '../../src/index.js'
import type { EngineTaskParams } from '../fixtures/engine-task.js'

/** Random scans per run; `npm run test:fuzz` sets ENGINE_FUZZ_RUNS=300. */
const RUNS = Number(process.env.ENGINE_FUZZ_RUNS ?? 12)
const POOL_WORKERS = 3
const STOP_GRACE_MS = 200
/** An aborted scan settles within stop_grace_ms and this much more (a loaded 2-core machine). */
const SETTLE_SLACK_MS = 2_000

const module = new URL('../fixtures/engine-task.js', import.meta.url)
const dir = mkdtempSync(join(tmpdir(), 'parascan-property-'))
const pool = new WorkStealingPool({ config: { max_workers: POOL_WORKERS } })
const sharedPool = new WorkStealingPool({ config: { max_workers: POOL_WORKERS }, concurrent_scans: true })
after(async () => {
  await pool.close()
  await sharedPool.close()
  rmSync(dir, { recursive: true, force: true })
})

interface Case {
  total: number
  workers: number
  scheduler: SchedulerName
  minChunk: number
  maxChunk: number
  ordered: boolean
  window: number
  consumer: 'collect' | 'stream' | 'slow' | 'hung'
  crashes: number[]
  abortAfterMs: number | undefined
  fetchSleepMs: number
}

const cases: fc.Arbitrary<Case> = fc.record({
  total: fc.oneof(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 4_000 })),
  workers: fc.integer({ min: 1, max: POOL_WORKERS }),
  scheduler: fc.constantFrom<SchedulerName>('work_stealing', 'work_stealing', 'thread_pool', 'sequential'),
  minChunk: fc.integer({ min: 1, max: 64 }),
  maxChunk: fc.integer({ min: 1, max: 512 }),
  ordered: fc.boolean(),
  window: fc.oneof(fc.integer({ min: 16, max: 2_000 }), fc.constant(65_536)),
  consumer: fc.constantFrom<Case['consumer']>('collect', 'stream', 'slow', 'hung'),
  crashes: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 3 }),
  abortAfterMs: fc.option(fc.integer({ min: 0, max: 300 }), { nil: undefined }),
  fetchSleepMs: fc.constantFrom(0, 0, 1)
}).map((c) => {
  const crashes = c.scheduler === 'sequential' || c.total === 0 ? [] : [...new Set(c.crashes.map(u => Math.floor(u * c.total)))]
  // An onBatch that never resolves only settles through an abort.
  const abortAfterMs = c.consumer === 'hung' ? c.abortAfterMs ?? 50 : c.abortAfterMs
  return { ...c, maxChunk: Math.max(c.minChunk, c.maxChunk), crashes, abortAfterMs }
})

let markers = 0

async function runCase (c: Case, on = pool): Promise<void> {
  const params: EngineTaskParams = { crashAtEach: c.crashes, crashMarker: join(dir, `m${++markers}`), fetchSleepMs: c.fetchSleepMs === 0 ? undefined : c.fetchSleepMs }
  const config = { max_workers: c.workers, scheduler: c.scheduler, min_chunk_size: c.minChunk, initial_chunk_size: c.minChunk, max_chunk_size: c.maxChunk }
  const controller = new AbortController()
  let abortedAt: number | undefined
  let timer: NodeJS.Timeout | undefined
  if (c.abortAfterMs !== undefined) {
    timer = setTimeout(() => { abortedAt = performance.now(); controller.abort() }, c.abortAfterMs)
  }
  const delivered: number[] = []
  const options = { config, ordered: c.ordered, ordered_window_records: c.window, signal: controller.signal, stop_grace_ms: STOP_GRACE_MS }
  let outcome: unknown[] | ScanSummary | Error
  try {
    if (c.consumer === 'collect') {
      outcome = await on.scan(c.total, { module, params }, options).catch((error: unknown) => error as Error)
      if (Array.isArray(outcome)) delivered.push(...outcome as number[])
    } else {
      outcome = await on.stream(c.total, { module, params }, {
        ...options,
        onBatch: async ({ json }) => {
          delivered.push(...JSON.parse(json) as number[])
          if (c.consumer === 'slow') await new Promise(resolve => setTimeout(resolve, 2))
          if (c.consumer === 'hung') await new Promise(() => {})
        }
      }).catch((error: unknown) => error as Error)
    }
  } finally {
    clearTimeout(timer)
  }
  const settledAt = performance.now()
  const seen = new Uint8Array(c.total)
  for (const value of delivered) {
    assert.ok(Number.isInteger(value / 2) && value / 2 < c.total, `unexpected result ${value}`)
    assert.equal(seen[value / 2]++, 0, `record ${value / 2} delivered twice`)
  }
  if (c.ordered) {
    for (let i = 1; i < delivered.length; i++) assert.ok(delivered[i] > delivered[i - 1], `out of order at ${i}`)
  }
  if (outcome instanceof Error) {
    const code = (outcome as Error & { code?: string }).code
    assert.ok(abortedAt !== undefined, `a scan that was not aborted failed: ${code} ${outcome.message}`)
    assert.equal(code, 'PARASCAN_ABORTED', outcome.message)
    const took = settledAt - abortedAt
    assert.ok(took < STOP_GRACE_MS + SETTLE_SLACK_MS, `settled ${Math.round(took)} ms after the abort`)
  } else {
    assert.equal(delivered.length, c.total, 'a scan that succeeded delivered every record')
  }
}

test('random scans (ordered ones with random reorder windows) with crashes, aborts and slow or hung consumers deliver every record at most once, exactly once when they succeed, settle in bounded time, and leave the pool serving', async () => {
  await fc.assert(fc.asyncProperty(cases, async (c) => {
    await runCase(c)
  }), { numRuns: RUNS })
  assert.equal((await pool.scan(1_000, { module })).length, 1_000)
})

test('random scans run two at a time on a pool that shares its threads keep the same promises', async () => {
  await fc.assert(fc.asyncProperty(cases, cases, async (a, b) => {
    await Promise.all([runCase(a, sharedPool), runCase(b, sharedPool)])
  }), { numRuns: Math.ceil(RUNS / 2) })
  assert.equal((await sharedPool.scan(1_000, { module })).length, 1_000)
})
