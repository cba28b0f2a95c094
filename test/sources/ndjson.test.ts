import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { join } from 'node:path'
import fc from 'fast-check'
import { indexNdjson } from '../../src/sources/record-index.js'
import { objectText } from '../helpers/json-number-lines.js'
import { makeDataDir, scan, type DataDir } from '../helpers/scan-task-harness.js'

describe('NDJSON file source', () => {
  let data: DataDir
  before(async () => { data = await makeDataDir() })
  after(async () => { await data.remove() })

  const file = (path: string) => ({ source: { type: 'file', path, format: 'ndjson' } })

  it('reads unicode, escaped newlines and every JSON value, skipping blank lines', async () => {
    const records = [
      { name: 'Zoë', city: '東京', emoji: '🦊' },
      { text: 'line one\nline two\r\n"quoted"', tab: '\t' },
      42.5, 'plain string', null, [1, [2, { three: 3 }]], true
    ]
    const text = '\n' + records.map((r, i) => JSON.stringify(r) + (i === 2 ? '\n  \t\r\n\n' : '\n')).join('')
    await data.write('unicode.ndjson', text)
    for (const chunk of [1, 3, 100]) {
      const run = await scan(file('unicode.ndjson'), data.ctx, { chunk })
      assert.deepEqual(run.results, records.filter((r) => r !== null))
    }
  })

  it('reads a file with CRLF line ends, a byte order mark and no trailing newline', async () => {
    await data.write('crlf.ndjson', '\ufeff{"a":1}\r\n{"a":2}\r\n{"a":3}')
    const run = await scan({ ...file('crlf.ndjson'), pipeline: [{ map: 'record.a' }] }, data.ctx)
    assert.deepEqual(run.results, [1, 2, 3])
  })

  it('reads a one-record file and an empty file', async () => {
    await data.write('one.ndjson', '{"only":true}')
    await data.write('empty.ndjson', '')
    await data.write('blank.ndjson', '\n\n  \n')
    assert.deepEqual((await scan(file('one.ndjson'), data.ctx)).results, [{ only: true }])
    assert.deepEqual((await scan(file('empty.ndjson'), data.ctx)).results, [])
    assert.deepEqual((await scan(file('blank.ndjson'), data.ctx)).results, [])
  })

  it('fails the bad line alone, naming the file, and skips it with on_error skip', async () => {
    await data.write('bad.ndjson', '{"a":1}\n{"a":\n{"a":3}\n')
    await assert.rejects(scan(file('bad.ndjson'), data.ctx), /record 1: bad\.ndjson: not valid JSON/)
    const run = await scan(file('bad.ndjson'), data.ctx, { onError: 'skip', chunk: 3 })
    assert.deepEqual(run.results, [{ a: 1 }, { a: 3 }])
    assert.equal(run.errors.length, 1)
    assert.equal(run.errors[0].offset, 1)
  })

  it('indexes the start of every line that holds more than spaces, tabs and \\r, for any read size (property)', async () => {
    const line = fc.array(fc.constantFrom(' ', '\t', '\r', '{}', 'ü', '1'), { maxLength: 4 }).map((p) => p.join(''))
    await fc.assert(fc.asyncProperty(fc.array(line, { maxLength: 12 }), fc.boolean(), fc.integer({ min: 1, max: 9 }), async (lines, bom, readBytes) => {
      const bytes = Buffer.from((bom ? '\ufeff' : '') + lines.join('\n'))
      const expected: number[] = []
      let start = bom ? 3 : 0
      for (const text of lines) {
        if (/[^ \t\r]/.test(text)) expected.push(start)
        start += Buffer.byteLength(text) + 1
      }
      expected.push(bytes.length)
      const path = await data.write('random.ndjson', bytes)
      const got = await indexNdjson(join(data.dir, path), { readBytes })
      assert.deepEqual(Array.from({ length: got.count + 1 }, (_, i) => got.offsets.get(i)), expected)
    }), { numRuns: 300 })
  })

  it('gives the results and errors of the same records passed through a map, for numbers of every spelling (property)', async () => {
    // A map makes the result from the CEL value; without one the decoded record is the result: both must agree.
    const filter = fc.constantFrom(undefined, 'record.n > 0.0', 'record.n != 1', 'has(record.n)', 'record.x == "a"')
    let files = 0
    await fc.assert(fc.asyncProperty(fc.array(objectText(), { minLength: 1, maxLength: 12 }), filter, fc.integer({ min: 1, max: 13 }), async (lines, expr, chunk) => {
      const path = await data.write(`mapped-${files++}.ndjson`, lines.join('\n') + '\n')
      const steps = expr === undefined ? [] : [{ filter: expr }]
      const direct = await scan({ ...file(path), pipeline: steps }, data.ctx, { chunk, onError: 'skip' })
      const mapped = await scan({ ...file(path), pipeline: [...steps, { map: 'record' }] }, data.ctx, { chunk, onError: 'skip' })
      assert.deepEqual(JSON.stringify(direct.results), JSON.stringify(mapped.results))
      assert.deepEqual(direct.errors.map((e) => e.offset), mapped.errors.map((e) => e.offset))
    }), { numRuns: 200 })
  })

  it('finds the same record starts whatever the read size', async () => {
    const lines = ['{"x":"ü"}', '', '   ', '{"x":2}', '\r', '[1,2]', '"s"']
    const path = await data.write('chunks.ndjson', lines.join('\n'))
    const expected = await indexNdjson(join(data.dir, path), { readBytes: 1 << 20 })
    for (const readBytes of [1, 2, 3, 5, 8]) {
      const got = await indexNdjson(join(data.dir, path), { readBytes })
      assert.equal(got.count, 4)
      assert.deepEqual(Array.from({ length: got.count + 1 }, (_, i) => got.offsets.get(i)), Array.from({ length: expected.count + 1 }, (_, i) => expected.offsets.get(i)))
    }
  })
})
