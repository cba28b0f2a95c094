import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import fc from 'fast-check'
import { WorkStealingPool } from '../../src/index.js'
import type { ResultBatch, ScanOptions } from '../../src/index.js'
import { IsolatedPool } from '../../src/parallel/isolated-pool.js'

const module = new URL('../fixtures/engine-task.js', import.meta.url)
const pools: WorkStealingPool[] = []
after(async () => { for (const pool of pools) await pool.close() })

function newPool (max = 3, extra: Record<string, unknown> = {}): WorkStealingPool {
  const pool = new WorkStealingPool({ config: { max_workers: max }, ...extra })
  pools.push(pool)
  return pool
}

async function streamAll (pool: WorkStealingPool, total: number, params: Record<string, unknown>, options: ScanOptions, delayMs = 1): Promise<{ seen: Map<number, number>, summary: { matched: number } }> {
  const seen = new Map<number, number>()
  const summary = await pool.stream(total, { module, params }, {
    ...options,
    onBatch: async (batch: ResultBatch) => {
      for (const value of JSON.parse(batch.json) as string[]) {
        const r = Number.parseInt(String(value), 10)
        seen.set(r, (seen.get(r) ?? 0) + 1)
      }
      if (delayMs > 0) await sleep(delayMs)
    }
  })
  return { seen, summary }
}

function assertOnce (seen: Map<number, number>, expected: number[]): void {
  for (const r of expected) assert.equal(seen.get(r), 1, `record ${r} handed over ${seen.get(r) ?? 0} times`)
  assert.equal(seen.size, expected.length)
}
const range = (n: number, every = 1): number[] => Array.from({ length: n }, (_, i) => i).filter(i => i % every === 0)

test('a window of one byte hands every result over once', { timeout: 60_000 }, async () => {
  const { seen, summary } = await streamAll(newPool(), 2000, { resultChars: 50 }, { unordered_window_bytes: 1 })
  assert.equal(summary.matched, 2000)
  assertOnce(seen, range(2000))
})

test('a single result bigger than the window', { timeout: 60_000 }, async () => {
  const { seen } = await streamAll(newPool(), 300, { resultChars: 20_000 }, { unordered_window_bytes: 100 })
  assertOnce(seen, range(300))
})

test('scan() with a window of one byte', { timeout: 60_000 }, async () => {
  const result = await newPool().scan(3000, { module, params: { resultChars: 20 } }, { unordered_window_bytes: 1 })
  assert.equal(result.length, 3000)
})

test('pages without items and a window of one byte', { timeout: 60_000 }, async () => {
  const { seen } = await streamAll(newPool(), 5000, { resultChars: 10, keepEvery: 7 }, { unordered_window_bytes: 1, config: { max_workers: 3, initial_chunk_size: 3, min_chunk_size: 1, max_chunk_size: 3 } })
  assertOnce(seen, range(5000, 7))
})

test('max_workers 1 and thread_pool with a window of one byte', { timeout: 60_000 }, async () => {
  const one = await streamAll(newPool(1), 1000, { resultChars: 30 }, { unordered_window_bytes: 1 })
  assertOnce(one.seen, range(1000))
  const tp = await streamAll(newPool(3), 1000, { resultChars: 30 }, { unordered_window_bytes: 1, config: { max_workers: 3, scheduler: 'thread_pool' } })
  assertOnce(tp.seen, range(1000))
})

test('onBatch rejecting while threads wait for room fails the scan', { timeout: 60_000 }, async () => {
  const pool = newPool()
  let calls = 0
  await assert.rejects(pool.stream(20_000, { module, params: { resultChars: 100 } }, {
    unordered_window_bytes: 1000,
    onBatch: async () => { if (++calls === 3) { await sleep(300); throw new Error('consumer gone') } }
  }), /consumer gone/)
  const again = await pool.scan(100, { module }, { unordered_window_bytes: 1 })
  assert.equal(again.length, 100)
})

test('abort while threads wait for room', { timeout: 60_000 }, async () => {
  const pool = newPool()
  const controller = new AbortController()
  await assert.rejects(pool.stream(20_000, { module, params: { resultChars: 100 } }, {
    unordered_window_bytes: 1000,
    signal: controller.signal,
    onBatch: async () => { setTimeout(() => controller.abort(), 200); await sleep(1000) }
  }))
  const again = await pool.scan(100, { module }, { unordered_window_bytes: 1 })
  assert.equal(again.length, 100)
})

test('close while threads wait for room settles the scan', { timeout: 60_000 }, async () => {
  const pool = new WorkStealingPool({ config: { max_workers: 3 } })
  const scan = pool.stream(20_000, { module, params: { resultChars: 100 } }, {
    unordered_window_bytes: 1000,
    onBatch: async () => { await sleep(50) }
  })
  const outcome = scan.then(() => 'resolved', () => 'rejected')
  await sleep(300)
  await pool.close()
  assert.ok(['resolved', 'rejected'].includes(await outcome))
})

test('a thread crash while the others wait for room: every result once', { timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'uw-'))
  const { seen } = await streamAll(newPool(), 3000, { resultChars: 200, crashAtEach: [500, 1500, 2500], crashMarker: join(dir, 'm') }, { unordered_window_bytes: 2000 }, 2)
  assertOnce(seen, range(3000))
})

test('a record past the time limit while the others wait for room', { timeout: 90_000 }, async () => {
  const { seen } = await streamAll(newPool(), 2000, { resultChars: 200, blockAt: 700, blockMs: 3000 }, { unordered_window_bytes: 2000, record_time_limit_ms: 300, on_error: 'skip' }, 2)
  for (const r of range(2000)) if (r !== 700) assert.equal(seen.get(r), 1, `record ${r}`)
})

test('concurrent scans with slow consumers and small windows both finish', { timeout: 90_000 }, async () => {
  const pool = newPool(3, { concurrent_scans: true })
  const a = streamAll(pool, 3000, { resultChars: 100 }, { unordered_window_bytes: 500 }, 3)
  await sleep(100)
  const b = streamAll(pool, 3000, { resultChars: 100 }, { unordered_window_bytes: 500 }, 1)
  const [ra, rb] = await Promise.all([a, b])
  assertOnce(ra.seen, range(3000))
  assertOnce(rb.seen, range(3000))
})

test('any window, thread count, scheduler and result shape: every kept result once, counts exact', { timeout: 180_000 }, async () => {
  const pool = newPool(3)
  await fc.assert(fc.asyncProperty(
    fc.record({
      total: fc.integer({ min: 0, max: 1500 }),
      window: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 50_000 })),
      workers: fc.integer({ min: 1, max: 3 }),
      scheduler: fc.constantFrom('work_stealing' as const, 'thread_pool' as const),
      keepEvery: fc.integer({ min: 0, max: 5 }),
      resultChars: fc.integer({ min: 1, max: 3000 }),
      chunk: fc.integer({ min: 1, max: 64 }),
      stream: fc.boolean()
    }),
    async (c) => {
      const params = { resultChars: c.resultChars, keepEvery: c.keepEvery }
      const config = { max_workers: c.workers, scheduler: c.scheduler, initial_chunk_size: c.chunk, min_chunk_size: 1, max_chunk_size: c.chunk }
      const expected = c.keepEvery === 0 ? [] : range(c.total, c.keepEvery)
      if (c.stream) {
        const { seen, summary } = await streamAll(pool, c.total, params, { unordered_window_bytes: c.window, config }, 0)
        assert.equal(summary.matched, expected.length)
        assertOnce(seen, expected)
      } else {
        const results = await pool.scan(c.total, { module, params }, { unordered_window_bytes: c.window, config })
        assert.deepEqual((results as string[]).map(v => Number.parseInt(v, 10)).sort((a, b) => a - b), expected)
      }
    }
  ), { numRuns: 40 })
})

test('onBatch throwing synchronously while threads wait for room fails the scan', { timeout: 60_000 }, async () => {
  const pool = newPool()
  let calls = 0
  await assert.rejects(pool.stream(20_000, { module, params: { resultChars: 100 } }, {
    unordered_window_bytes: 1,
    onBatch: () => { if (++calls === 5) throw new Error('sync consumer failure') }
  }), /sync consumer failure/)
})

test('unordered_window_bytes rejects what is not a positive safe integer', async () => {
  const pool = newPool()
  for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, '10' as unknown as number]) {
    await assert.rejects(pool.scan(10, { module }, { unordered_window_bytes: bad }), { code: 'PARASCAN_INVALID_OPTION' }, String(bad))
  }
})

test('a consumer stalled past the stall timeout and the record time limit while every thread waits for room', { timeout: 60_000 }, async () => {
  const pool = newPool()
  let first = true
  const seen = new Map<number, number>()
  const summary = await pool.stream(3000, { module, params: { resultChars: 100 } }, {
    unordered_window_bytes: 1000,
    record_time_limit_ms: 200,
    onBatch: async (batch) => {
      for (const value of JSON.parse(batch.json) as string[]) {
        const r = Number.parseInt(value, 10)
        seen.set(r, (seen.get(r) ?? 0) + 1)
      }
      if (first) { first = false; await sleep(3500) }
    }
  })
  assert.equal(summary.matched, 3000)
  assert.equal(summary.skipped, 0)
  assertOnce(seen, range(3000))
})

test('isolated pool: a one-byte window and a slow consumer hand every result over once; a rejecting consumer fails the scan', { timeout: 90_000 }, async () => {
  const isolated = new IsolatedPool()
  try {
    const seen = new Map<number, number>()
    const summary = await isolated.stream(1500, { module, params: { resultChars: 300 } }, {
      unordered_window_bytes: 1,
      config: { max_workers: 3 },
      onBatch: async (batch) => {
        for (const value of JSON.parse(batch.json) as string[]) {
          const r = Number.parseInt(value, 10)
          seen.set(r, (seen.get(r) ?? 0) + 1)
        }
        await sleep(1)
      }
    })
    assert.equal(summary.matched, 1500)
    assertOnce(seen, range(1500))
    let calls = 0
    await assert.rejects(isolated.stream(20_000, { module, params: { resultChars: 300 } }, {
      unordered_window_bytes: 1000,
      config: { max_workers: 3 },
      onBatch: async () => { if (++calls === 3) throw new Error('isolated consumer gone') }
    }), /isolated consumer gone/)
  } finally {
    await isolated.close()
  }
})
