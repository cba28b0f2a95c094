import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { join } from 'node:path'
import { parse } from 'csv-parse/sync'
import fc from 'fast-check'
import { planScan } from '../../src/pipeline/index.js'
import { csvParseOptions } from '../../src/sources/csv-options.js'
import { indexCsv } from '../../src/sources/record-index.js'
import { makeDataDir, request, scan, type DataDir } from '../helpers/scan-task-harness.js'

describe('CSV file source', () => {
  let data: DataDir
  before(async () => { data = await makeDataDir() })
  after(async () => { await data.remove() })

  const csv = (path: string, columns?: Record<string, string>) => ({ source: { type: 'file', path, format: 'csv', ...(columns === undefined ? {} : { columns }) } })

  it('parses every RFC 4180 case: quoted commas, doubled quotes, line breaks in quotes, CRLF and LF', async () => {
    const text = 'id,name,note\r\n' +
      '1,"Smith, John","said ""hi"""\r\n' +
      '2,plain,"two\r\nlines"\n' +
      '3,"","multi\nline, with ""quotes"" and, commas"\r\n' +
      '\r\n' +
      '4,,last'
    await data.write('rfc.csv', text)
    const expected = [
      { id: '1', name: 'Smith, John', note: 'said "hi"' },
      { id: '2', name: 'plain', note: 'two\r\nlines' },
      { id: '3', name: '', note: 'multi\nline, with "quotes" and, commas' },
      { id: '4', name: '', note: 'last' }
    ]
    for (const chunk of [1, 2, 10]) assert.deepEqual((await scan(csv('rfc.csv'), data.ctx, { chunk })).results, expected)
    for (const readBytes of [1, 2, 3, 7]) {
      const index = await indexCsv(join(data.dir, 'rfc.csv'), { readBytes })
      assert.equal(index.count, 5, `read size ${readBytes}`)
    }
  })

  it('indexes records where csv-parse finds them, whatever the fields and the read size (property)', async () => {
    const field = fc.stringMatching(/^[a-z",\r\n ]{0,6}$/)
    const quoteIfNeeded = (text: string) => /[",\r\n]/.test(text) || text === '' ? `"${text.replaceAll('"', '""')}"` : text
    await fc.assert(fc.asyncProperty(
      fc.array(fc.array(field, { minLength: 2, maxLength: 2 }), { minLength: 1, maxLength: 12 }),
      fc.array(fc.constantFrom('\n', '\r\n')), fc.boolean(), fc.integer({ min: 1, max: 9 }),
      async (rows, ends, trailing, readBytes) => {
        const text = rows.map((row, i) => row.map(quoteIfNeeded).join(',') + (i < rows.length - 1 || trailing ? (ends[i % Math.max(1, ends.length)] ?? '\n') : '')).join('')
        const path = await data.write('random.csv', text)
        const index = await indexCsv(join(data.dir, path), { readBytes })
        assert.equal(index.count, rows.length)
        const bytes = Buffer.from(text)
        for (let i = 0; i < index.count; i++) {
          const record = parse(bytes.subarray(index.offsets.get(i), index.offsets.get(i + 1)), csvParseOptions) as string[][]
          assert.deepEqual(record, [rows[i]])
        }
      }), { numRuns: 300 })
  })

  it('converts typed columns and names the column of a value that does not convert', async () => {
    await data.write('typed.csv', 'n,i,b,j,s\n1.5,-2,true,"{""k"":[1]}",x\n,,,,\n1e3,7,0,null,y\nabc,1,true,1,z\n')
    const columns = { n: 'number', i: 'integer', b: 'boolean', j: 'json' }
    const run = await scan(csv('typed.csv', columns), data.ctx, { onError: 'skip' })
    assert.deepEqual(run.results, [
      { n: 1.5, i: -2, b: true, j: { k: [1] }, s: 'x' },
      { n: null, i: null, b: null, j: null, s: '' },
      { n: 1000, i: 7, b: false, j: null, s: 'y' }
    ])
    assert.equal(run.errors.length, 1)
    assert.equal(run.errors[0].offset, 3)
    assert.match(run.errors[0].message, /typed\.csv: column "n": "abc" is not a number/)
    await data.write('badint.csv', 'i\n1.5\n')
    await assert.rejects(scan(csv('badint.csv', { i: 'integer' }), data.ctx), /column "i": "1\.5" is not an integer/)
  })

  it('refuses a row whose field count differs from the header, and malformed quoting, record by record', async () => {
    await data.write('ragged.csv', 'a,b\n1,2\n3\n4,x"y\n5,6\n')
    const run = await scan(csv('ragged.csv'), data.ctx, { onError: 'skip', chunk: 10 })
    assert.deepEqual(run.results, [{ a: '1', b: '2' }, { a: '5', b: '6' }])
    assert.deepEqual(run.errors.map((e) => e.offset), [1, 2])
    assert.match(run.errors[0].message, /the row has 1 fields, the header has 2/)
    assert.match(run.errors[1].message, /not valid CSV/)
  })

  it('reads a header-only file, an empty file and a file without a trailing newline', async () => {
    await data.write('header.csv', 'a,b\r\n')
    await data.write('empty.csv', '')
    await data.write('one.csv', '\ufeffa,b\n1,2')
    assert.deepEqual((await scan(csv('header.csv'), data.ctx)).results, [])
    assert.deepEqual((await scan(csv('empty.csv'), data.ctx)).results, [])
    assert.deepEqual((await scan(csv('one.csv'), data.ctx)).results, [{ a: '1', b: '2' }])
  })

  it('fails to plan a file with an unterminated quote, naming the file', async () => {
    await data.write('open.csv', 'a,b\n1,"never closed\n2,3\n')
    await assert.rejects(planScan(request(csv('open.csv')), data.ctx), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'PARASCAN_SOURCE_FILE')
      assert.match(error.message, /open\.csv.*quoted field is not closed/)
      return true
    })
  })

  it('refuses a header with a duplicate column and typed columns that the header lacks', async () => {
    await data.write('dup.csv', 'a,a\n1,2\n')
    await assert.rejects(planScan(request(csv('dup.csv')), data.ctx), /column "a" twice/)
    await data.write('ok.csv', 'a,b\n1,2\n')
    await assert.rejects(planScan(request(csv('ok.csv', { c: 'number' })), data.ctx), (error: Error & { errors?: unknown }) => {
      assert.deepEqual(error.errors, [{ path: 'source.columns.c', message: 'ok.csv has no column "c"' }])
      return true
    })
  })
})
