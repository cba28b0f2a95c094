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
  // Two scans on a thread each: a running scan keeps its last thread, so the next one has to wait.
  const small = { max_workers: 1, min_chunk_size: 10, initial_chunk_size: 10, max_chunk_size: 10 }
  let started = 0
  const long = local.scan(100_000, { module, params: { fetchSleepMs: 20 } }, { ordered: true, config: small, progress_interval_ms: 20, metrics: (event) => { if (event === 'progress') started |= 1 } }).catch((error: unknown) => error as Error & { code?: string })
  const other = local.scan(100_000, { module, params: { fetchSleepMs: 20 } }, { config: small, progress_interval_ms: 20, metrics: (event) => { if (event === 'progress') started |= 2 } }).catch((error: unknown) => error as Error & { code?: string })
  await waitUntil(() => started === 3)
  await assert.rejects(local.scan(10, { module }, { signal: AbortSignal.timeout(100) }), { code: 'PARASCAN_ABORTED' })
  const waiting = local.scan(10, { module }).catch((error: unknown) => error as Error & { code?: string })
  const began = performance.now()
  await local.close()
  assert.ok(performance.now() - began < 4_000)
  assert.equal((await long as Error & { code?: string }).code, 'PARASCAN_POOL_CLOSED')
  assert.equal((await other as Error & { code?: string }).code, 'PARASCAN_POOL_CLOSED')
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

/** Progress of one scan: when, and the chunks each of its slots has run. */
function watch (): { live: Array<{ at: number, chunks: number[] }>, metrics: (event: string, data: unknown) => void, busy: (from: number, to: number) => number } {
  const live: Array<{ at: number, chunks: number[] }> = []
  return {
    live,
    metrics: (event, data) => {
      if (event === 'progress') live.push({ at: performance.now(), chunks: (data as { workers: Array<{ chunks_processed: number }> }).workers.map((w) => w.chunks_processed) })
    },
    // Slots that ran a chunk between `from` and `to`: the threads the scan held then.
    busy: (from, to) => {
      const first = live.find((p) => p.at >= from)
      const last = live.findLast((p) => p.at <= to)
      if (first === undefined || last === undefined) return 0
      return first.chunks.filter((n, slot) => last.chunks[slot] > n).length
    }
  }
}

test('with share groups, a tenant with two scans and a tenant with one share four threads two and two, the first tenant\'s one and one; all three exact', async () => {
  const local = new WorkStealingPool({ config: { max_workers: 4, min_chunk_size: 10, initial_chunk_size: 10, max_chunk_size: 10 }, concurrent_scans: true })
  try {
    const scans = [watch(), watch(), watch()]
    const run = (i: number, group: string): Promise<unknown[]> =>
      local.scan(6_000, { module, params: { fetchSleepMs: 20 } }, { share_group: group, progress_interval_ms: 50, metrics: scans[i].metrics })
    const a1 = run(0, 'a')
    await waitUntil(() => scans[0].live.at(-1)?.chunks.every((n) => n > 1) === true)
    const a2 = run(1, 'a')
    await waitUntil(() => scans[1].live.length > 0)
    const b = run(2, 'b')
    await waitUntil(() => scans[2].live.length > 0)
    const from = performance.now() + 500
    await waitUntil(() => scans.every((scan) => (scan.live.at(-1)?.at ?? 0) > from + 1_500))
    assert.deepEqual(scans.map((scan) => scan.busy(from, from + 1_500)), [1, 1, 2], 'tenant a: one thread per scan, tenant b: two')
    for (const results of await Promise.all([a1, a2, b])) exactlyOnce(results, 6_000)
  } finally {
    await local.close()
  }
})

test('without share groups every scan is a group of its own: three scans on three threads get one each', async () => {
  const local = new WorkStealingPool({ config: { max_workers: 3, min_chunk_size: 10, initial_chunk_size: 10, max_chunk_size: 10 }, concurrent_scans: true })
  try {
    const scans = [watch(), watch(), watch()]
    const runs = scans.map(async (scan, i) => {
      await waitUntil(() => i === 0 || scans[i - 1].live.length > 0)
      return await local.scan(3_000, { module, params: { fetchSleepMs: 20 } }, { share_group: i === 2 ? 'b' : undefined, progress_interval_ms: 50, metrics: scan.metrics })
    })
    await waitUntil(() => scans[2].live.length > 0)
    const from = performance.now() + 500
    await waitUntil(() => scans.every((scan) => (scan.live.at(-1)?.at ?? 0) > from + 1_000))
    assert.deepEqual(scans.map((scan) => scan.busy(from, from + 1_000)), [1, 1, 1])
    for (const results of await Promise.all(runs)) exactlyOnce(results, 3_000)
    await assert.rejects(local.scan(1, { module }, { share_group: '' }), { code: 'PARASCAN_INVALID_OPTION', message: /share_group/ })
    await assert.rejects(local.scan(1, { module }, { share_group: 7 as unknown as string }), { code: 'PARASCAN_INVALID_OPTION', message: /share_group/ })
  } finally {
    await local.close()
  }
})

function inOrder (results: unknown[], total: number): void {
  assert.equal(results.length, total)
  const wrong = (results as number[]).findIndex((value, i) => value !== 2 * i)
  assert.equal(wrong, -1, `result ${wrong} out of order`)
}

test('with concurrent_scans, an ordered scan that runs alone gives a thread back at a chunk boundary to another tenant\'s scan, which ends first; its results stay in order and exact', async () => {
  const local = new WorkStealingPool({ config: { max_workers: 2, min_chunk_size: 10, initial_chunk_size: 10, max_chunk_size: 10 }, concurrent_scans: true })
  try {
    const scan = watch()
    let orderedDone = false
    const ordered = local.scan(4_000, { module, params: { fetchSleepMs: 20 } }, { ordered: true, share_group: 'a', progress_interval_ms: 50, metrics: scan.metrics })
      .finally(() => { orderedDone = true })
    await waitUntil(() => scan.live.at(-1)?.chunks.every((n) => n > 1) === true)
    const other = await local.scan(300, { module, params: { fetchSleepMs: 20 } }, { share_group: 'b' })
    exactlyOnce(other, 300)
    assert.equal(orderedDone, false, 'the other tenant\'s scan got a thread and ended while the ordered one ran')
    const settled = performance.now()
    await waitUntil(() => (scan.live.at(-1)?.at ?? 0) > settled + 1_000)
    assert.equal(scan.busy(settled + 300, settled + 1_000), 2, 'the ordered scan takes the thread back')
    inOrder(await ordered, 4_000)
  } finally {
    await local.close()
  }
})

test('with concurrent_scans, an ordered scan that gave a thread to another tenant\'s long scan still ends before it: its other thread adopts the ranges the given-back slot holds at the window', async () => {
  const local = new WorkStealingPool({ config: { max_workers: 2, min_chunk_size: 10, initial_chunk_size: 10, max_chunk_size: 10 }, concurrent_scans: true })
  try {
    const scan = watch()
    const stop = new AbortController()
    let longDone = false
    const ordered = local.scan(2_000, { module, params: { fetchSleepMs: 10 } }, { ordered: true, ordered_window_records: 100, share_group: 'a', progress_interval_ms: 50, metrics: scan.metrics })
    // The second slot's range starts at 1000: it runs once the front is near, and then holds the front.
    await waitUntil(() => (scan.live.at(-1)?.chunks[1] ?? 0) > 2)
    const long = local.scan(100_000, { module, params: { fetchSleepMs: 20 } }, { share_group: 'b', signal: stop.signal })
      .catch((error: unknown) => error).finally(() => { longDone = true })
    inOrder(await ordered, 2_000)
    assert.equal(longDone, false, 'the ordered scan ended on one thread while the long one held the other')
    stop.abort()
    assert.equal((await long as { code?: string }).code, 'PARASCAN_ABORTED')
  } finally {
    await local.close()
  }
})

test('with concurrent_scans, an ordered scan with a small window gives threads back and takes them again many times; results stay in order and exact', async () => {
  const local = new WorkStealingPool({ config: { max_workers: 4, min_chunk_size: 5, initial_chunk_size: 5, max_chunk_size: 5 }, concurrent_scans: true })
  try {
    let orderedDone = false
    const pages: number[] = []
    const ordered = local.stream(3_000, { module, params: { fetchSleepMs: 5 } }, {
      ordered: true,
      ordered_window_records: 60,
      share_group: 'a',
      onBatch: ({ json }) => { pages.push(...JSON.parse(json) as number[]) }
    }).finally(() => { orderedDone = true })
    let others = 0
    while (!orderedDone) {
      const group = `b${others % 3}`
      const runs = [local.scan(50 + others, { module, params: { fetchSleepMs: 2 } }, { share_group: group }), local.scan(30, { module }, { share_group: 'a' })]
      const [first, second] = await Promise.all(runs)
      exactlyOnce(first, 50 + others)
      exactlyOnce(second, 30)
      others++
    }
    const summary = await ordered
    assert.ok(others >= 3, `${others} rounds of other scans ran beside it`)
    assert.equal(summary.rerun, 0)
    inOrder(pages, 3_000)
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
