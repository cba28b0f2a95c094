import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { ScanTaskState } from '../../src/pipeline/scan-task-state.js'
import { RangeSourceReader } from '../../src/sources/range-source.js'

describe('range source', () => {
  it('reads start + offset onwards for any sequence of reads of any sizes, whatever the caller wrote into the last one (property)', () => {
    fc.assert(fc.property(
      fc.integer({ min: -1000, max: 1000 }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 0, max: 3000 }), fc.constantFrom(null, 'x', { a: 1 }, 2.5)), { minLength: 1, maxLength: 12 }),
      (start, reads) => {
        const reader = new RangeSourceReader({ type: 'range', start, end: start + 200_000 })
        for (const [offset, count, written] of reads) {
          const records = reader.read(offset, count) as unknown[]
          assert.equal(records.length, count)
          for (let i = 0; i < count; i++) assert.equal(records[i], start + offset + i)
          for (let i = 0; i < count; i += 3) records[i] = written
        }
      }
    ), { numRuns: 200 })
  })

  it('gives the right results when a chunk shrinks and grows again after results replaced its records', () => {
    const state = ScanTaskState.openSync({
      id: 'range-source-test',
      source: { type: 'range', start: 0, end: 100_000 },
      steps: [{ kind: 'filter', expr: 'record % 7 == 0' }]
    })
    try {
      for (const [offset, count] of [[0, 4096], [4096, 128], [4224, 8192], [12_416, 1], [12_417, 4096]]) {
        const kept = state.processChunk(offset, count).filter((result) => result !== null)
        const expected: number[] = []
        for (let r = offset; r < offset + count; r++) if (r % 7 === 0) expected.push(r)
        assert.deepEqual(kept, expected, `chunk [${offset}, ${offset + count})`)
      }
    } finally {
      state.close()
    }
  })
})
