import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { after, test } from 'node:test'
import { promisify } from 'node:util'
import { WorkStealingPool } from '../../src/index.js'

const module = new URL('../fixtures/engine-task.js', import.meta.url)
const hangModule = new URL('../fixtures/engine-hang-task.js', import.meta.url)
const threadHangModule = new URL('../fixtures/engine-thread-hang-task.js', import.meta.url)
const pools: WorkStealingPool[] = []
after(async () => { await Promise.all(pools.map(async (pool) => await pool.close())) })

function newPool (workers = 2): WorkStealingPool {
  const pool = new WorkStealingPool({ config: { max_workers: workers, min_chunk_size: 10, initial_chunk_size: 10, max_chunk_size: 10 } })
  pools.push(pool)
  return pool
}

async function timed<T> (promise: Promise<T>): Promise<{ outcome: T | Error, ms: number }> {
  const began = performance.now()
  const outcome = await promise.catch((error: unknown) => error as Error)
  return { outcome, ms: performance.now() - began }
}

test('a scan waiting behind another on the same pool answers its signal at once', async () => {
  const pool = newPool()
  const ahead = pool.scan(2_000, { module, params: { fetchSleepMs: 20 } })
  const { outcome, ms } = await timed(pool.scan(100, { module }, { signal: AbortSignal.timeout(200) }))
  assert.equal((outcome as Error & { code?: string }).code, 'PARASCAN_ABORTED')
  assert.ok(ms < 1_500, `rejected after ${ms} ms`)
  assert.equal((await ahead).length, 2_000)
  assert.equal((await pool.scan(10, { module })).length, 10, 'the pool serves the next scan')
})

test('an onBatch that never resolves does not keep an aborted scan from settling, nor close()', async () => {
  const pool = newPool()
  const controller = new AbortController()
  let batches = 0
  const scan = pool.stream(2_000, { module, params: { fetchSleepMs: 5 } }, {
    signal: controller.signal,
    stop_grace_ms: 300,
    onBatch: async () => { batches++; await new Promise(() => {}) }
  })
  while (batches === 0) await new Promise(resolve => setTimeout(resolve, 10))
  controller.abort()
  const { outcome, ms } = await timed(scan)
  assert.equal((outcome as Error & { code?: string }).code, 'PARASCAN_ABORTED')
  assert.ok(ms < 300 + 1_500, `settled after ${ms} ms`)
  assert.equal(batches, 1, 'no page is handed over after the scan settled')
  assert.equal((await pool.scan(10, { module })).length, 10, 'the pool serves the next scan')
  const hung = pool.stream(100, { module }, { stop_grace_ms: 300, onBatch: () => new Promise(() => {}) }).catch((error: unknown) => error)
  await new Promise(resolve => setTimeout(resolve, 300))
  const closing = await timed(pool.close())
  assert.ok(closing.ms < 300 + 1_500, `close() took ${closing.ms} ms`)
  assert.equal((await hung as Error & { code?: string }).code, 'PARASCAN_POOL_CLOSED')
})

test('an onBatch that never resolves after the last record still settles once the scan times out', async () => {
  const pool = newPool()
  const { outcome, ms } = await timed(pool.stream(50, { module }, { signal: AbortSignal.timeout(300), stop_grace_ms: 200, onBatch: () => new Promise(() => {}) }))
  assert.equal((outcome as Error & { code?: string }).code, 'PARASCAN_ABORTED')
  assert.ok(ms < 300 + 200 + 1_500, `settled after ${ms} ms`)
})

test('a task module whose top-level await never settles fails its scan, not the later ones nor close()', async () => {
  const pool = newPool()
  const { outcome, ms } = await timed(pool.scan(100, { module: hangModule }, { module_load_timeout_ms: 300 }))
  assert.equal((outcome as Error & { code?: string }).code, 'PARASCAN_TASK_MODULE')
  assert.match((outcome as Error).message, /module_load_timeout_ms = 300/)
  assert.ok(ms < 2_000, `failed after ${ms} ms`)
  const aborted = await timed(pool.scan(100, { module: hangModule }, { signal: AbortSignal.timeout(200) }))
  assert.equal((aborted.outcome as Error & { code?: string }).code, 'PARASCAN_ABORTED')
  assert.ok(aborted.ms < 1_500, `aborted after ${aborted.ms} ms`)
  const inThreads = await timed(pool.scan(100, { module: threadHangModule }, { module_load_timeout_ms: 300, stop_grace_ms: 200 }))
  assert.equal((inThreads.outcome as Error & { code?: string }).code, 'PARASCAN_TASK_MODULE')
  assert.ok(inThreads.ms < 3_000, `failed after ${inThreads.ms} ms`)
  assert.equal((await pool.scan(10, { module })).length, 10, 'the pool serves the next scan')
  const waiting = pool.scan(100, { module: hangModule }).catch((error: unknown) => error)
  await new Promise(resolve => setTimeout(resolve, 100))
  const closing = await timed(pool.close())
  assert.ok(closing.ms < 1_500, `close() took ${closing.ms} ms`)
  assert.equal((await waiting as Error & { code?: string }).code, 'PARASCAN_POOL_CLOSED')
})

test('module_load_timeout_ms and record_time_limit_ms are checked', async () => {
  const pool = newPool()
  await assert.rejects(pool.scan(10, { module }, { module_load_timeout_ms: 0 }), { code: 'PARASCAN_INVALID_OPTION', message: /module_load_timeout_ms/ })
  await assert.rejects(pool.scan(10, { module }, { record_time_limit_ms: -1 }), { code: 'PARASCAN_INVALID_OPTION', message: /record_time_limit_ms/ })
})

test('a sequential scan held by a hung onBatch settles after an abort even when nothing else keeps the process alive', async () => {
  const index = new URL('../../src/index.js', import.meta.url).href
  const code = `import { WorkStealingPool } from ${JSON.stringify(index)}
const pool = new WorkStealingPool({ config: { max_workers: 2 } })
const controller = new AbortController()
const outcome = await pool.stream(100, { module: ${JSON.stringify(module.href)} }, { config: { scheduler: 'sequential' },
  signal: controller.signal, stop_grace_ms: 200, onBatch: () => { controller.abort(); return new Promise(() => {}) }
}).catch((error) => error.code)
console.log(outcome)
await pool.close()`
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', code], { timeout: 30_000 })
  assert.equal(stdout.trim(), 'PARASCAN_ABORTED')
})
