import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { makeDataDir, scan } from '../helpers/scan-task-harness.js'

/** Lines of events, most of the type the filter keeps, with invalid lines and lines that are not objects among them. */
const lines = fc.array(fc.oneof(
  { weight: 12, arbitrary: fc.record({ type: fc.constantFrom('a', 'a', 'a', 'b'), n: fc.integer(), s: fc.constantFrom('x', 'é', 'a"b') }).map((event) => JSON.stringify(event)) },
  { weight: 1, arbitrary: fc.constantFrom('{"type":"a","n":', '{"type":"a"} x', '{"type":"a","n":01}', '[1]', '"a"', '{"type":"\\u0061","n":2,"type":"a"}', '{"n":1,"type":"a",}') }
), { minLength: 1, maxLength: 150 })

describe('decoding the fields a filter reads before the whole record', () => {
  it('gives the results and errors of the whole records, whatever share of the records the filter keeps (property)', async () => {
    const data = await makeDataDir()
    try {
      let file = 0
      await fc.assert(fc.asyncProperty(lines, fc.integer({ min: 1, max: 12 }), async (text, chunk) => {
        const path = await data.write(`e${file++}.ndjson`, text.join('\n') + '\n')
        const source = { type: 'file', path, format: 'ndjson' }
        const projected = await scan({ source, pipeline: [{ filter: 'record.type == "a"' }] }, data.ctx, { chunk, onError: 'skip' })
        const whole = await scan({ source, pipeline: [{ filter: 'record.type == "a" && size(record) >= 0' }] }, data.ctx, { chunk, onError: 'skip' })
        assert.deepEqual(projected, whole)
        const expected = text.flatMap((line) => {
          try {
            const record = JSON.parse(line) as { type?: unknown }
            return typeof record === 'object' && record !== null && !Array.isArray(record) && record.type === 'a' ? [record] : []
          } catch {
            return []
          }
        })
        assert.deepEqual(projected.results, expected)
      }), { numRuns: 60 })
    } finally {
      await data.remove()
    }
  })
})
