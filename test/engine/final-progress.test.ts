import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { WorkStealingPool, type ProgressEvent } from '../../src/index.js'

const module = new URL('../fixtures/engine-task.js', import.meta.url)
const pool = new WorkStealingPool({ config: { max_workers: 2 } })
after(async () => { await pool.close() })

for (const scheduler of ['work_stealing', 'thread_pool', 'sequential'] as const) {
  test(`${scheduler}: a scan that stops early still reports final progress that covers every result delivered`, async () => {
    const total = 2_000_000
    const controller = new AbortController()
    let delivered = 0
    let last: ProgressEvent | undefined
    const scan = pool.stream(total, { module, params: { total, spin: 200 } }, {
      config: { scheduler },
      signal: controller.signal,
      progress_interval_ms: 10_000,
      metrics: (event, data) => { if (event === 'progress') last = data as ProgressEvent },
      onBatch: ({ items }) => {
        delivered += items
        if (delivered > 20_000) controller.abort()
      }
    })
    await assert.rejects(scan, { code: 'PARASCAN_ABORTED' })
    assert.ok(last !== undefined, 'no progress event')
    assert.ok(delivered > 20_000)
    assert.ok(last.matched >= delivered, `matched ${last.matched} < ${delivered} results delivered`)
    assert.ok(last.processed >= last.matched && last.processed < total, `processed ${last.processed}`)
  })
}
