import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { WorkStealingPool } from '../../src/index.js'

const module = new URL('../fixtures/engine-task.js', import.meta.url)
const dir = mkdtempSync(join(tmpdir(), 'parascan-concurrent-'))
const pool = new WorkStealingPool({ config: { max_workers: 4, min_chunk_size: 10, initial_chunk_size: 10, max_chunk_size: 10 }, concurrent_scans: true })
after(async () => {
  await pool.close()
  rmSync(dir, { recursive: true, force: true })
})

function exactlyOnce (results: unknown[], total: number): void {
  const seen = new Uint8Array(total)
  for (const value of results as number[]) seen[value / 2]++
  assert.equal(seen.findIndex(count => count !== 1), -1)
  assert.equal(results.length, total)
}

test('with concurrent_scans, a scan gets the threads a long one leaves free and runs beside it; a crash in one is not the other\'s business', async () => {
  let longDone = false
  const long = pool.stream(3_000, { module, params: { fetchSleepMs: 20 } }, { config: { max_workers: 2 }, onBatch: () => {} }).finally(() => { longDone = true })
  await new Promise(resolve => setTimeout(resolve, 100))
  const results = await pool.scan(2_000, { module, params: { crashAt: 700, crashMarker: join(dir, 'crash') } }, { config: { max_workers: 4 } })
  exactlyOnce(results, 2_000)
  assert.equal(longDone, false, 'the second scan ran beside the long one')
  const summary = await pool.stream(500, { module }, { config: { max_workers: 4 }, onBatch: () => {} })
  assert.equal(summary.workers.length, 4, 'a slot for each of its max_workers')
  assert.ok(summary.workers.filter((w) => w.chunks_processed > 0).length <= 2, 'it ran on the two free threads')
  const sequential = await pool.scan(1_000, { module }, { config: { scheduler: 'sequential' } })
  exactlyOnce(sequential, 1_000)
  assert.equal(longDone, false)
  const longSummary = await long
  assert.equal(longSummary.processed, 3_000)
  assert.equal(longSummary.rerun, 0)
})

test('with concurrent_scans, a scan waiting for a free thread answers its signal, and close() ends running and waiting scans', async () => {
  const local = new WorkStealingPool({ config: { max_workers: 2 }, concurrent_scans: true })
  // Ordered: a scan that keeps its threads, so that the next one has to wait.
  const long = local.scan(100_000, { module, params: { fetchSleepMs: 20 } }, { ordered: true, config: { max_workers: 2, min_chunk_size: 10, initial_chunk_size: 10, max_chunk_size: 10 } }).catch((error: unknown) => error as Error & { code?: string })
  await new Promise(resolve => setTimeout(resolve, 100))
  await assert.rejects(local.scan(10, { module }, { signal: AbortSignal.timeout(100) }), { code: 'PARASCAN_ABORTED' })
  const waiting = local.scan(10, { module }).catch((error: unknown) => error as Error & { code?: string })
  const began = performance.now()
  await local.close()
  assert.ok(performance.now() - began < 4_000)
  assert.equal((await long as Error & { code?: string }).code, 'PARASCAN_POOL_CLOSED')
  assert.equal((await waiting as Error & { code?: string }).code, 'PARASCAN_POOL_CLOSED')
})

test('with concurrent_scans, a scan alone takes every thread; one that comes later gets an equal share at the next chunk and ends first; the long one takes its threads back, and both are exact', async () => {
  const local = new WorkStealingPool({ config: { max_workers: 4, min_chunk_size: 10, initial_chunk_size: 10, max_chunk_size: 10 }, concurrent_scans: true })
  try {
    const live: Array<{ at: number, chunks: number[] }> = []
    let longDone = false
    const long = local.scan(6_000, { module, params: { fetchSleepMs: 20 } }, {
      progress_interval_ms: 50,
      metrics: (event, data) => {
        if (event === 'progress') live.push({ at: performance.now(), chunks: (data as { workers: Array<{ chunks_processed: number }> }).workers.map((w) => w.chunks_processed) })
      }
    }).finally(() => { longDone = true })
    const busy = (from: number, to: number): number => {
      const first = live.find((p) => p.at >= from)
      const last = live.findLast((p) => p.at <= to)
      if (first === undefined || last === undefined) return 0
      return first.chunks.filter((n, slot) => last.chunks[slot] > n).length
    }
    await waitUntil(() => live.length > 0 && live[live.length - 1].chunks.every((n) => n > 1))
    const began = performance.now()
    const short = await local.scan(400, { module, params: { fetchSleepMs: 20 } }, { config: { max_workers: 4 } })
    const shortMs = performance.now() - began
    exactlyOnce(short, 400)
    assert.equal(longDone, false, `the short scan ended first (${Math.round(shortMs)} ms) while the long one ran`)
    const settled = performance.now()
    await waitUntil(() => live.length > 0 && live[live.length - 1].at > settled + 1_000)
    assert.equal(busy(settled + 300, settled + 1_000), 4, 'the long scan runs on every thread again')
    exactlyOnce(await long, 6_000)
  } finally {
    await local.close()
  }
})

async function waitUntil (condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

test('concurrent_scans must be a boolean', () => {
  assert.throws(() => new WorkStealingPool({ concurrent_scans: 'yes' as unknown as boolean }), { code: 'PARASCAN_INVALID_OPTION', message: /concurrent_scans/ })
})
