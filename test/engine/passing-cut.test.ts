import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Worker } from 'node:worker_threads'
import { ParallelConfig } from '../../src/parallel/parallel-config.js'
import { ScanRunner } from '../../src/parallel/scan-runner.js'
import { SharedScanState } from '../../src/parallel/shared-scan-state.js'
import type { TaskModule } from '../../src/parallel/types.js'
import type { CommitMessage, ScanSpec, WorkerMessage } from '../../src/parallel/worker-protocol.js'

const stateModule = new URL('../../src/parallel/shared-scan-state.js', import.meta.url).href

/** Where slot 0's current range [lo, hi) and its lock live: found by the values setRange writes. */
function rangeWords (state: SharedScanState): { lo: number, hi: number, lock: number } {
  state.setRange(0, 0x1357_9bd, 0x2468_ace)
  const lo = state.i32.findIndex((value, i) => value === 0x1357_9bd && state.i32[i + 1] === 0x2468_ace)
  state.setRange(0, 0, 0)
  assert.ok(lo >= 0)
  return { lo, hi: lo + 1, lock: lo + 2 }
}

/**
 * A thief caught half-way through a steal of the back of slot 0's range: it holds the range's lock
 * and has lowered hi below the owner's next record (the owner's chunk reached past its cut), and it
 * is descheduled before it looks at lo again and puts hi back. It puts hi back `afterMs` after `gate`.
 */
function stalledThief (buffer: SharedArrayBuffer, gate: SharedArrayBuffer, words: { hi: number, lock: number }, afterMs: number): Worker {
  const code = `
    const { workerData } = require('node:worker_threads')
    const i32 = new Int32Array(workerData.buffer)
    const gate = new Int32Array(workerData.gate)
    Atomics.wait(gate, 0, 0)
    Atomics.wait(gate, 1, 0, workerData.afterMs)
    Atomics.store(i32, workerData.words.hi, Atomics.load(gate, 0))
    Atomics.store(i32, workerData.words.lock, 0)
    // The owner sleeps in its search for work when records were lost: ends the scan so the test can say so.
    Atomics.wait(gate, 1, 0, workerData.giveUpMs)
    import(workerData.stateModule).then(({ SharedScanState }) => new SharedScanState(workerData.buffer, 2).abort())`
  return new Worker(code, { eval: true, workerData: { buffer, gate, words, afterMs, giveUpMs: 5000, stateModule } })
}

test('a range a thief is cutting for a moment is not taken for empty: the owner waits for the cut to end and loses no record', async () => {
  const total = 4000
  const state = new SharedScanState(new SharedArrayBuffer(SharedScanState.bytesFor(2)), 2)
  const words = rangeWords(state)
  state.setRemaining(total)
  state.push(0, 0, total)
  const gate = new SharedArrayBuffer(8)
  const thief = stalledThief(state.buffer, gate, words, 200)
  let cuts = 0
  const task: TaskModule = {
    fetch: (offset, count) => {
      if (cuts++ === 0) {
        // The thief read lo before this chunk was claimed, so its cut lies below the chunk's end.
        const hi = Atomics.load(state.i32, words.hi)
        Atomics.store(state.i32, words.lock, 1)
        Atomics.store(state.i32, words.hi, offset)
        Atomics.store(new Int32Array(gate), 0, hi)
        Atomics.notify(new Int32Array(gate), 0)
      }
      return Array.from({ length: count }, (_, i) => offset + i)
    },
    process: (record) => record
  }
  const config = new ParallelConfig({ max_workers: 2, initial_chunk_size: 200, min_chunk_size: 100 }).toJSON()
  const spec: ScanSpec = {
    scanId: 1, moduleUrl: 'inline:', params: undefined, buffer: state.buffer, workers: 2, workerId: 0, total,
    scheduler: 'work_stealing', config, ordered: false, window: { records: total, bytes: 1 << 30 }, onError: 'fail', maxErrorSamples: 0, moduleLoadTimeoutMs: 30_000, takeOver: false
  }
  const committed: number[] = []
  let results = 0
  const post = (message: WorkerMessage): void => {
    if (message.type !== 'commit') return
    const { ranges, json } = message as CommitMessage
    for (let k = 0; k < ranges.length; k += 3) for (let r = ranges[k]; r < ranges[k + 1]; r++) committed.push(r)
    results += (JSON.parse(json ?? '[]') as unknown[]).length
  }
  try {
    await new ScanRunner(spec, task, state, { post }).run()
    const ended = !state.aborted
    committed.sort((a, b) => a - b)
    const missing = total - new Set(committed).size
    assert.equal(missing, 0, `${missing} records never committed`)
    assert.deepEqual(committed, Array.from({ length: total }, (_, i) => i))
    assert.equal(results, total)
    assert.ok(ended, 'the scan ended')
  } finally {
    await thief.terminate()
  }
})
