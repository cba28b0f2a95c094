import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { WorkStealingPool } from '../../src/index.js'

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
