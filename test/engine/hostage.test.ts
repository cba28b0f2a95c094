import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { WorkStealingPool } from '../../src/index.js'
import type { ProgressEvent } from '../../src/parallel/types.js'

const module = new URL('../fixtures/engine-task.js', import.meta.url)
const pool = new WorkStealingPool({ config: { max_workers: 2 } })
after(() => pool.close())

test('while one record blocks its thread, the other thread runs everything but the blocked chunk', async () => {
  const total = 200_000
  const chunk = 1000
  const gate = new SharedArrayBuffer(4)
  let releasedBy: string | undefined
  const release = (by: string): void => {
    releasedBy ??= by
    Atomics.store(new Int32Array(gate), 0, 1)
    Atomics.notify(new Int32Array(gate), 0)
  }
  let lastProcessed = 0
  const timer = setTimeout(() => release('timeout'), 8000)
  try {
    const summary = await pool.stream(total, { module, params: { keepEvery: 0, blockAt: 10, gate } }, {
      config: { initial_chunk_size: chunk, min_chunk_size: 128 },
      progress_interval_ms: 20,
      metrics: (event, data) => {
        if (event !== 'progress' || releasedBy !== undefined) return
        lastProcessed = (data as ProgressEvent).processed
        if (lastProcessed >= total - chunk) release('progress')
      },
      onBatch: () => {}
    })
    assert.equal(summary.processed, total)
    assert.equal(releasedBy, 'progress', `progress stopped at ${lastProcessed} of ${total} records while record 10 blocked`)
  } finally {
    clearTimeout(timer)
  }
})
