import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { WorkStealingPool, type ScanSummary, type WorkerMetrics } from '../../src/index.js'
import type { EngineTaskParams } from '../fixtures/engine-task.js'

const module = new URL('../fixtures/engine-task.js', import.meta.url)
const pool = new WorkStealingPool({ config: { max_workers: 2 } })
const dir = mkdtempSync(join(tmpdir(), 'parascan-engine-'))
after(async () => {
  await pool.close()
  rmSync(dir, { recursive: true, force: true })
})

type Coded = Error & { code?: string, offset?: number, cause?: unknown }
const SCHEDULERS = ['work_stealing', 'thread_pool', 'sequential'] as const

function scan (total: number, params: EngineTaskParams, options: Parameters<WorkStealingPool['scan']>[2] = {}): Promise<unknown[]> {
  return pool.scan(total, { module, params: { total, ...params } }, options)
}

for (const scheduler of SCHEDULERS) {
  test(`${scheduler}: an exception in process rejects naming the record offset, with the cause`, async () => {
    await assert.rejects(scan(100_000, { failProcessAt: 54_321 }, { config: { scheduler } }), (error: Coded) => {
      assert.equal(error.code, 'PARASCAN_RECORD_FAILED')
      assert.equal(error.offset, 54_321)
      assert.match(error.message, /offset 54321/)
      assert.match(String((error.cause as Error).message), /bad record 54321/)
      return true
    })
  })

  test(`${scheduler}: an exception in fetch rejects naming the chunk's first offset`, async () => {
    await assert.rejects(scan(100_000, { failFetchAt: 77_777 }, { config: { scheduler } }), (error: Coded) => {
      assert.equal(error.code, 'PARASCAN_FETCH_FAILED')
      assert.ok(error.offset !== undefined && error.offset <= 77_777 && error.offset > 77_777 - 8192, String(error.offset))
      assert.ok(error.message.includes(`fetch(${error.offset},`), error.message)
      assert.match(String((error.cause as Error).message), /cannot read chunk/)
      return true
    })
  })

  test(`${scheduler}: a short fetch is an error naming offset and counts, not a hang`, async () => {
    await assert.rejects(scan(50_000, { shortFetchAt: 30_000 }, { config: { scheduler } }), (error: Coded) => {
      assert.equal(error.code, 'PARASCAN_SHORT_FETCH')
      assert.ok(error.offset !== undefined && error.offset <= 30_000)
      const match = /fetch\((\d+), (\d+)\) returned (\d+) records/.exec(error.message)
      assert.ok(match !== null, error.message)
      assert.equal(Number(match[1]), error.offset)
      assert.equal(Number(match[3]), Number(match[2]) - 1)
      return true
    })
  })

  test(`${scheduler}: on_error skip counts failing records and keeps the first samples`, async () => {
    const pages: unknown[][] = []
    const summary: ScanSummary = await pool.stream(100_000, { module, params: { failEvery: 1000 } }, {
      config: { scheduler },
      on_error: 'skip',
      max_error_samples: 5,
      onBatch: (batch) => { pages.push(JSON.parse(batch.json) as unknown[]) }
    })
    assert.equal(summary.skipped, 100)
    assert.equal(summary.processed, 100_000)
    assert.equal(summary.matched, 99_900)
    assert.equal(pages.flat().length, 99_900)
    assert.ok(!pages.flat().includes(2000))
    assert.equal(summary.errors.length, 5)
    for (const sample of summary.errors) {
      assert.equal(sample.offset % 1000, 0)
      assert.equal(sample.message, `bad record ${sample.offset}`)
    }
    assert.deepEqual(summary.errors.map(e => e.offset), summary.errors.map(e => e.offset).sort((a, b) => a - b))
  })

  test(`${scheduler}: a fetch failure fails the scan even with on_error skip`, async () => {
    await assert.rejects(scan(20_000, { failFetchAt: 10 }, { config: { scheduler }, on_error: 'skip' }), { code: 'PARASCAN_FETCH_FAILED' })
  })

  test(`${scheduler}: an AbortSignal stops the scan within about a chunk`, async () => {
    const controller = new AbortController()
    let abortedAt = 0
    setTimeout(() => { abortedAt = performance.now(); controller.abort() }, 100)
    await assert.rejects(scan(2_000_000_000, { spin: 50 }, { config: { scheduler }, signal: controller.signal }), (error: Coded) => {
      assert.equal(error.code, 'PARASCAN_ABORTED')
      assert.equal(error.name, 'AbortError')
      return true
    })
    const late = performance.now() - abortedAt
    assert.ok(late < 500, `stopped ${late} ms after the abort`)
    assert.deepEqual(await scan(10, {}, { config: { scheduler }, ordered: true }), [0, 2, 4, 6, 8, 10, 12, 14, 16, 18])
  })
}

test('an already aborted signal rejects before anything runs', async () => {
  await assert.rejects(scan(10, {}, { signal: AbortSignal.abort() }), { code: 'PARASCAN_ABORTED', name: 'AbortError' })
})

test('fetch may be async and process may return a promise', async () => {
  const results = await scan(20_000, { asyncFetch: true, asyncProcess: true, keepEvery: 5 }, { ordered: true })
  assert.deepEqual(results, Array.from({ length: 4000 }, (_, i) => i * 10))
})

test('bad totals, options and modules are rejected with clear errors', async () => {
  for (const total of [-1, 1.5, 2 ** 31, Number.NaN, '5' as unknown as number]) {
    await assert.rejects(scan(total, {}), { code: 'PARASCAN_INVALID_TOTAL' }, String(total))
  }
  await assert.rejects(scan(10, {}, { config: { max_workers: 3 } }), (error: Coded) => {
    assert.equal(error.code, 'PARASCAN_INVALID_CONFIG')
    assert.match(error.message, /max_workers = 3 is more than the pool's max_workers = 2/)
    return true
  })
  await assert.rejects(scan(10, {}, { config: { min_chunk_size: 0 } }), { code: 'PARASCAN_INVALID_CONFIG' })
  await assert.rejects(scan(10, {}, { on_error: 'ignore' as 'skip' }), { code: 'PARASCAN_INVALID_OPTION' })
  await assert.rejects(pool.scan(10, { module: join(dir, 'missing.js') }), (error: Coded) => {
    assert.equal(error.code, 'PARASCAN_TASK_MODULE')
    assert.match(error.message, /missing\.js/)
    return true
  })
  await assert.rejects(pool.scan(10, { module: new URL('../fixtures/engine-aggregate-task.js', import.meta.url).href.replace('aggregate-task', 'controller') }), { code: 'PARASCAN_TASK_MODULE' })
})

test('a thread that dies mid-chunk is replaced and its records run exactly once', async () => {
  for (const scheduler of ['work_stealing', 'thread_pool'] as const) {
    const finals: WorkerMetrics[] = []
    const total = 300_000
    const marker = join(dir, `crash-${scheduler}`)
    const results = await scan(total, { crashAt: 123_457, crashMarker: marker, keepEvery: 1, spin: 5 }, {
      config: { scheduler },
      metrics: (event, data) => { if (event === 'final_worker') finals.push(data as WorkerMetrics) }
    }) as number[]
    assert.ok(existsSync(marker), 'a thread exited')
    assert.equal(results.length, total, scheduler)
    const seen = new Uint8Array(total)
    for (const value of results) seen[value / 2]++
    assert.ok(seen.every(count => count === 1), `${scheduler}: each record once`)
    assert.equal(finals.reduce((sum, w) => sum + w.records_processed, 0), total)
  }
})

test('a range that keeps killing threads fails the scan naming the range', async () => {
  await assert.rejects(scan(100_000, { crashAt: 64_000 }), (error: Coded) => {
    assert.equal(error.code, 'PARASCAN_WORKER_CRASHED')
    const ranges = [...error.message.matchAll(/\[(\d+), (\d+)\)/g)].map(m => [Number(m[1]), Number(m[2])])
    assert.ok(ranges.some(([s, e]) => s <= 64_000 && 64_000 < e), error.message)
    return true
  })
  assert.deepEqual(await scan(5, {}, { ordered: true }), [0, 2, 4, 6, 8], 'the pool still works')
})
