import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Worker } from 'node:worker_threads'
import { ParallelConfig } from '../../src/parallel/parallel-config.js'
import { ScanRunner } from '../../src/parallel/scan-runner.js'
import { SharedScanState } from '../../src/parallel/shared-scan-state.js'
import type { TaskModule } from '../../src/parallel/types.js'
import type { ScanSpec } from '../../src/parallel/worker-protocol.js'

const stateModule = new URL('../../src/parallel/shared-scan-state.js', import.meta.url).href

/**
 * A thief that went to sleep in the window between the owner's look at the
 * hungry count and its push: it read the wake epoch, counted itself as a
 * sleeper and waits, but was not hungry yet when the owner looked.
 */
function parkedThief (buffer: SharedArrayBuffer): Worker {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads')
    import(workerData.stateModule).then(({ SharedScanState }) => {
      const state = new SharedScanState(workerData.buffer, 2)
      const epoch = state.epoch
      state.addSleepers(1)
      parentPort.postMessage({ parked: true })
      const began = performance.now()
      state.sleep(1, epoch, 5000)
      parentPort.postMessage({ woke: performance.now() - began })
    })`
  return new Worker(code, { eval: true, workerData: { buffer, stateModule } })
}

test('a push made because the deque was empty wakes a thief that parked just before it', async () => {
  const total = 4000
  const state = new SharedScanState(new SharedArrayBuffer(SharedScanState.bytesFor(2)), 2)
  state.setRemaining(total)
  state.push(0, 0, total)
  const thief = parkedThief(state.buffer)
  let woke: (ms: number) => void = () => {}
  const wokeUp = new Promise<number>(resolve => { woke = resolve })
  thief.on('message', (message: { parked?: true, woke?: number }) => { if (message.woke !== undefined) woke(message.woke) })
  await new Promise<void>(resolve => thief.once('message', () => resolve()))
  try {
    let chunks = 0
    let heldFor = -1
    const task: TaskModule = {
      fetch: async (offset, count) => {
        // The owner's second chunk waits for the thief: it must have woken by the owner's first split.
        if (++chunks === 2) {
          const began = performance.now()
          let timer: NodeJS.Timeout | undefined
          await Promise.race([wokeUp, new Promise(resolve => { timer = setTimeout(resolve, 3000) })])
          clearTimeout(timer)
          heldFor = performance.now() - began
        }
        return Array.from({ length: count }, (_, i) => offset + i)
      },
      process: () => null
    }
    const config = new ParallelConfig({ max_workers: 2, initial_chunk_size: 200, min_chunk_size: 100 }).toJSON()
    const spec: ScanSpec = {
      scanId: 1, moduleUrl: 'inline:', params: undefined, buffer: state.buffer, workers: 2, workerId: 0, total,
      scheduler: 'work_stealing', config, ordered: false, window: { records: total, bytes: 1 << 30 }, onError: 'fail', maxErrorSamples: 0, moduleLoadTimeoutMs: 30_000, takeOver: false
    }
    await new ScanRunner(spec, task, state, { post: () => {} }).run()
    assert.ok(heldFor >= 0, 'the owner ran a second chunk')
    assert.ok(heldFor < 2000, `the parked thief slept beside the range pushed for it (owner held ${Math.round(heldFor)} ms)`)
    assert.ok(await wokeUp < 2000)
  } finally {
    await thief.terminate()
  }
})
