import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import fc from 'fast-check'
import { WorkStealingPool } from '../../src/index.js'
import type { ProgressEvent, ResultBatch, StreamOptions } from '../../src/parallel/types.js'
import type { EngineTaskParams } from '../fixtures/engine-task.js'

const module = new URL('../fixtures/engine-task.js', import.meta.url)
const pool = new WorkStealingPool({ config: { max_workers: 4 } })
after(() => pool.close())

interface Pages { items: number[], largest: number, largestChars: number, first: number }

/** Streams an ordered scan, checks that results come in source order exactly once, and returns the page sizes. */
async function orderedScan (total: number, params: EngineTaskParams, options: Partial<StreamOptions> = {}, onPage?: (batch: ResultBatch) => Promise<void> | void): Promise<Pages> {
  const pages: Pages = { items: [], largest: 0, largestChars: 0, first: -1 }
  let next = 0
  let count = 0
  const keep = params.keepEvery ?? 1
  await pool.stream(total, { module, params }, {
    ...options,
    ordered: true,
    onBatch: async (batch) => {
      const values = JSON.parse(batch.json) as unknown[]
      for (const value of values) {
        const expected = params.resultChars !== undefined ? String(next).padEnd(params.resultChars, '.') : next * 2
        assert.deepEqual(value, expected, 'results in source order')
        next += keep
        count++
      }
      if (pages.first < 0) pages.first = batch.items
      pages.items.push(batch.items)
      if (batch.items > pages.largest) pages.largest = batch.items
      if (batch.json.length > pages.largestChars) pages.largestChars = batch.json.length
      await onPage?.(batch)
    }
  })
  assert.equal(count, Math.ceil(total / keep), 'every result once')
  return pages
}

test('ordered: with record 0 blocking, results held out of order stay within the window in records', async () => {
  const total = 300_000
  const pages = await orderedScan(total, { blockAt: 0, blockMs: 1500 }, { config: { max_workers: 2 }, ordered_window_records: 20_000 })
  // Every page is what was held when the gap before it closed.
  assert.ok(pages.first <= 20_000, `first page held ${pages.first} results`)
  assert.ok(pages.largest <= 20_000, `a page held ${pages.largest} results`)
})

test('ordered: the default window bounds what a blocked record 0 makes the others pile up', async () => {
  const pages = await orderedScan(300_000, { blockAt: 0, blockMs: 1500 }, { config: { max_workers: 2 } })
  assert.ok(pages.largest <= 65_536, `a page held ${pages.largest} results`)
})

test('ordered: the window in bytes holds threads back when results are large', async () => {
  const chunk = 50
  const resultChars = 200
  const bytes = 20_000
  const pages = await orderedScan(20_000, { blockAt: 0, blockMs: 500, resultChars }, {
    config: { max_workers: 4, initial_chunk_size: chunk, min_chunk_size: chunk, max_chunk_size: chunk },
    ordered_window_bytes: bytes
  })
  // Within the window plus one chunk's results per thread (each result is its JSON string: 2 quotes, a comma).
  const bound = bytes + 4 * chunk * (resultChars + 3)
  assert.ok(pages.largestChars <= bound, `a page held ${pages.largestChars} characters, bound ${bound}`)
})

test('ordered: results larger than the byte window still go through, one by one', async () => {
  const pages = await orderedScan(60, { resultChars: 50_000 }, {
    config: { max_workers: 4, initial_chunk_size: 1, min_chunk_size: 1, max_chunk_size: 1 },
    ordered_window_bytes: 1000
  })
  assert.ok(pages.largestChars <= 1000 + 4 * 50_003, `a page held ${pages.largestChars} characters`)
})

test('ordered: a window of one record runs the scan one record at a time, in order', async () => {
  const pages = await orderedScan(3000, {}, { config: { max_workers: 3, min_chunk_size: 1, initial_chunk_size: 1 }, ordered_window_records: 1 })
  assert.equal(pages.largest, 1)
})

test('ordered: a consumer that stops reading holds the threads back at the window', async () => {
  let resume: () => void = () => {}
  const resumed = new Promise<void>(resolve => { resume = resolve })
  let processed = 0
  let pagesTaken = 0
  const scan = orderedScan(200_000, {}, {
    config: { max_workers: 2 },
    ordered_window_records: 10_000,
    progress_interval_ms: 20,
    metrics: (event, data) => { if (event === 'progress') processed = (data as ProgressEvent).processed }
  }, async () => {
    if (++pagesTaken === 1) await resumed
  })
  await new Promise(resolve => setTimeout(resolve, 1000))
  const held = processed
  resume()
  await scan
  // The first page is in onBatch; the threads went at most one window past it.
  assert.ok(held <= 2 * 10_000, `${held} records processed while the consumer did not read`)
})

test('ordered: a stuck record 0 with the other threads waiting at the window still aborts', async () => {
  const controller = new AbortController()
  setTimeout(() => controller.abort(), 300)
  const started = performance.now()
  await assert.rejects(pool.stream(200_000, { module, params: { blockAt: 0, blockMs: 30_000 } }, {
    config: { max_workers: 2 },
    ordered: true,
    ordered_window_records: 1000,
    signal: controller.signal,
    stop_grace_ms: 300,
    onBatch: () => {}
  }), { code: 'PARASCAN_ABORTED' })
  assert.ok(performance.now() - started < 10_000)
  assert.equal((await pool.scan(1000, { module, params: {} }, { ordered: true })).length, 1000, 'the pool serves the next scan')
})

test('ordered: a thread that dies while the others wait at the window is replaced, results stay exact and in order', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'parascan-window-'))
  try {
    for (const crashAt of [5, 100_010]) {
      await orderedScan(150_000, { crashAt, crashMarker: join(dir, `crashed-${crashAt}`) }, { config: { max_workers: 2 }, ordered_window_records: 5000 })
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('ordered: random windows, totals, chunk sizes and workers never deadlock and keep source order', async () => {
  await fc.assert(fc.asyncProperty(
    fc.integer({ min: 0, max: 5000 }),
    fc.integer({ min: 1, max: 400 }),
    fc.integer({ min: 1, max: 20_000 }),
    fc.integer({ min: 1, max: 4 }),
    fc.integer({ min: 1, max: 64 }),
    fc.integer({ min: 1, max: 3 }),
    fc.constantFrom('work_stealing', 'thread_pool') as fc.Arbitrary<'work_stealing' | 'thread_pool'>,
    async (total, records, bytes, workers, chunk, keepEvery, scheduler) => {
      await orderedScan(total, { keepEvery, asyncFetch: total % 2 === 0 }, {
        config: { max_workers: workers, scheduler, min_chunk_size: 1, initial_chunk_size: chunk, max_chunk_size: 4 * chunk },
        ordered_window_records: records,
        ordered_window_bytes: bytes
      })
    }), { numRuns: 40 })
})

test('ordered window options are checked', async () => {
  await assert.rejects(pool.scan(10, { module }, { ordered: true, ordered_window_records: 0 }), { code: 'PARASCAN_INVALID_OPTION', message: /ordered_window_records/ })
  await assert.rejects(pool.scan(10, { module }, { ordered: true, ordered_window_bytes: 1.5 }), { code: 'PARASCAN_INVALID_OPTION', message: /ordered_window_bytes/ })
})
