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
  assert.equal(summary.workers.length, 2, 'it got the two free threads')
  const sequential = await pool.scan(1_000, { module }, { config: { scheduler: 'sequential' } })
  exactlyOnce(sequential, 1_000)
  assert.equal(longDone, false)
  const longSummary = await long
  assert.equal(longSummary.processed, 3_000)
  assert.equal(longSummary.rerun, 0)
})

test('with concurrent_scans, a scan waiting for a free thread answers its signal, and close() ends running and waiting scans', async () => {
  const local = new WorkStealingPool({ config: { max_workers: 2 }, concurrent_scans: true })
  const long = local.scan(100_000, { module, params: { fetchSleepMs: 20 } }, { config: { max_workers: 2, min_chunk_size: 10, initial_chunk_size: 10, max_chunk_size: 10 } }).catch((error: unknown) => error as Error & { code?: string })
  await new Promise(resolve => setTimeout(resolve, 100))
  await assert.rejects(local.scan(10, { module }, { signal: AbortSignal.timeout(100) }), { code: 'PARASCAN_ABORTED' })
  const waiting = local.scan(10, { module }).catch((error: unknown) => error as Error & { code?: string })
  const began = performance.now()
  await local.close()
  assert.ok(performance.now() - began < 4_000)
  assert.equal((await long as Error & { code?: string }).code, 'PARASCAN_POOL_CLOSED')
  assert.equal((await waiting as Error & { code?: string }).code, 'PARASCAN_POOL_CLOSED')
})

test('concurrent_scans must be a boolean', () => {
  assert.throws(() => new WorkStealingPool({ concurrent_scans: 'yes' as unknown as boolean }), { code: 'PARASCAN_INVALID_OPTION', message: /concurrent_scans/ })
})
