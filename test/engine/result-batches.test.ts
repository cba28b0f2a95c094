import assert from 'node:assert/strict'
import { once } from 'node:events'
import { after, test } from 'node:test'
import { Worker } from 'node:worker_threads'
import { WorkStealingPool } from '../../src/index.js'
import { SharedScanState } from '../../src/parallel/shared-scan-state.js'
import { TRANSIT_BYTES } from '../../src/parallel/worker-protocol.js'

const module = new URL('../fixtures/engine-task.js', import.meta.url)
const pool = new WorkStealingPool({ config: { max_workers: 2 } })
after(() => pool.close())

test('unordered: a thread hands its results over by size, not only by count or age', async () => {
  const total = 400
  const resultChars = 100_000
  const chunk = 4
  const seen = new Set<number>()
  let largest = 0
  await pool.stream(total, { module, params: { resultChars } }, {
    config: { max_workers: 2, initial_chunk_size: chunk, min_chunk_size: chunk, max_chunk_size: chunk },
    onBatch: (batch) => {
      if (batch.json.length > largest) largest = batch.json.length
      const values = JSON.parse(batch.json) as string[]
      assert.equal(values.length, batch.items)
      for (const value of values) {
        const record = Number.parseInt(value, 10)
        assert.equal(value, String(record).padEnd(resultChars, '.'))
        assert.ok(!seen.has(record), `record ${record} twice`)
        seen.add(record)
      }
    }
  })
  assert.equal(seen.size, total, 'every result once')
  // 40 MB of results in all; a batch stops at 4 Mi characters plus the chunk that passed them.
  const bound = 4 * 1024 * 1024 + chunk * (resultChars + 3)
  assert.ok(largest <= bound, `a batch held ${largest} characters, bound ${bound}`)
})

test('unordered: threads wait while the results not yet handed over reach unordered_window_bytes, so a slow consumer bounds them', async () => {
  const total = 100_000
  const resultChars = 1000
  const windowBytes = 1024 * 1024
  let release: () => void = () => {}
  const released = new Promise<void>(resolve => { release = resolve })
  let held = false
  let processedWhileHeld = 0
  let items = 0
  const summary = await pool.stream(total, { module, params: { resultChars } }, {
    unordered_window_bytes: windowBytes,
    progress_interval_ms: 10,
    metrics: (event, data) => {
      if (held && event === 'progress') processedWhileHeld = Math.max(processedWhileHeld, (data as { processed: number }).processed)
    },
    onBatch: async (batch) => {
      items += batch.items
      if (!held) {
        // The consumer stalls on its first page for a while: the threads must stop soon after the window fills.
        held = true
        setTimeout(release, 1500)
        await released
        held = false
      }
    }
  })
  assert.equal(summary.matched, total)
  assert.equal(items, total, 'every result handed over once the consumer went on')
  // Unbounded, the threads would have made all 100 MB meanwhile; bounded: the window, plus a batch and a chunk per thread.
  assert.ok(processedWhileHeld < total / 5, `${processedWhileHeld} records processed while the consumer stalled`)
})

test('unordered_window_bytes must be a positive integer', async () => {
  await assert.rejects(pool.scan(10, { module }, { unordered_window_bytes: 0 }), { code: 'PARASCAN_INVALID_OPTION' })
})

for (const ordered of [false, true]) {
  test(`${ordered ? 'ordered' : 'unordered'}: threads wait to post while what they posted has not reached the calling thread, so after a busy spell it takes in a few MB before its timers run, not the window`, async () => {
    const total = 2_000_000
    const resultChars = 100
    const chunk = 1000
    const workers = 2
    let first = true
    let counting = false
    let burst = -1
    let counted = 0
    let items = 0
    const summary = await pool.stream(total, { module, params: { resultChars } }, {
      config: { max_workers: workers, max_chunk_size: chunk },
      ordered,
      unordered_window_bytes: 48 * 1024 * 1024,
      ordered_window_bytes: 48 * 1024 * 1024,
      ordered_window_records: total,
      onBatch: (batch) => {
        items += batch.items
        if (counting) counted += batch.json.length
        if (!first) return
        first = false
        // The calling thread is busy for a while; the threads go on meanwhile.
        const until = performance.now() + 2000
        while (performance.now() < until) { /* busy */ }
        counting = true
        setImmediate(() => {
          counting = false
          burst = counted
        })
      }
    })
    assert.equal(summary.matched, total)
    assert.equal(items, total)
    assert.ok(burst >= 0)
    // What was on its way when the calling thread turned to its messages: at most the bound in transit, and one page per thread past it.
    const bound = TRANSIT_BYTES + workers * (4 * 1024 * 1024 + chunk * (resultChars + 3))
    assert.ok(burst <= bound, `${burst} bytes of results taken in before the first timer, bound ${bound}`)
  })
}

test('results a thread counted in transit and never posted (it was ended between the two) leave the transit once it has exited; those received leave it once', async () => {
  const state = new SharedScanState(new SharedArrayBuffer(SharedScanState.bytesFor(2)), 2)
  const stateModule = new URL('../../src/parallel/shared-scan-state.js', import.meta.url).href
  const code = `
    const { workerData } = require('node:worker_threads')
    import(workerData.stateModule).then(({ SharedScanState }) => {
      new SharedScanState(workerData.buffer, 2).addTransitBytes(1, 8 * 1024 * 1024)
      process.exit(0)
    })`
  const thread = new Worker(code, { eval: true, workerData: { buffer: state.buffer, stateModule } })
  await once(thread, 'exit')
  state.addTransitBytes(0, 1000)
  state.receivedFrom(0, 1000)
  assert.equal(state.transitBytes, 8 * 1024 * 1024 + 1000)
  state.receivedBytes(1000)
  state.dropTransit(0)
  assert.equal(state.transitBytes, 8 * 1024 * 1024)
  state.dropTransit(1)
  assert.equal(state.transitBytes, 0)
  state.dropTransit(1)
  assert.equal(state.transitBytes, 0)
})
