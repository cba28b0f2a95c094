import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { parse } from 'csv-parse/sync'
import fc from 'fast-check'
import { csvParseOptions } from '../../src/sources/csv-options.js'
import { columnConverter } from '../../src/sources/csv-column-converter.js'
import { CsvFileReader } from '../../src/sources/csv-file-reader.js'
import { csvQuotedLineFields } from '../../src/sources/csv-quoted-line.js'
import { planFileSource } from '../../src/sources/file-source.js'
import { recordIndexCache } from '../../src/sources/record-index-cache.js'
import { makeDataDir, scan, type DataDir } from '../helpers/scan-task-harness.js'

const NAMES = ['a', 'b', 'c', 'd']
const piece = fc.constantFrom('a', 'b', '1', '2', '.', '-', 'e', ' ', 'é', '€', '😀', '\ufeff', '\u2028', ',', '"', '""', '\r', '\n', '\r\n')
const field = fc.array(piece, { maxLength: 5 }).map((pieces) => pieces.join(''))
const columnType = fc.constantFrom('string', 'number', 'integer', 'boolean')

/** minimal: quotes where needed; all: every field; raw: none (line breaks dropped), which may make malformed rows. */
type Quoting = 'minimal' | 'all' | 'raw'

function quote (text: string, quoting: Quoting): string {
  if (quoting === 'raw') return text.replace(/[\r\n]/g, '')
  return quoting === 'all' || /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

/** A CSV file: header of `width` columns, rows of about that width, mixed line ends, blank lines. */
const csvFile = fc.integer({ min: 1, max: 4 }).chain((width) => fc.record({
  width: fc.constant(width),
  rows: fc.array(fc.record({
    fields: fc.array(field, { minLength: Math.max(1, width - 1), maxLength: width + 1 }).chain((fields) =>
      fc.oneof({ weight: 4, arbitrary: fc.constant(fields) }, { weight: 1, arbitrary: fc.array(field, { minLength: width, maxLength: width }) })),
    quoting: fc.constantFrom<Quoting>('minimal', 'minimal', 'all', 'raw'),
    end: fc.constantFrom('\n', '\r\n', '\n\n', '\r\n\r\n', '\n\r\n')
  }), { maxLength: 14 }),
  trailing: fc.boolean(),
  bom: fc.boolean(),
  types: fc.array(columnType, { minLength: width, maxLength: width }),
  wanted: fc.subarray([...NAMES, 'missing'])
})).map(({ width, rows, trailing, bom, types, wanted }) => {
  let text = (bom ? '\ufeff' : '') + NAMES.slice(0, width).join(',') + '\n'
  rows.forEach((row, i) => {
    text += row.fields.map((f) => quote(f, row.quoting)).join(',')
    if (i < rows.length - 1 || trailing) text += row.end
  })
  const columns = Object.fromEntries(NAMES.slice(0, width).map((name, i) => [name, types[i]]))
  return { text, columns, wanted: new Set(wanted) }
})

function outcome<T> (run: () => T): { value: T } | { error: string } {
  try {
    return { value: run() }
  } catch (error) {
    return { error: (error as Error).message }
  }
}

describe('CSV reader', () => {
  let data: DataDir
  before(async () => { data = await makeDataDir() })
  after(async () => { await data.remove() })

  it('gives exactly the rows csv-parse gives, in chunks of any size, whole or projected; a malformed row fails alone (property)', async () => {
    let file = 0
    await fc.assert(fc.asyncProperty(csvFile, fc.integer({ min: 1, max: 20 }), async ({ text, columns, wanted }, chunk) => {
      const path = await data.write(`p${file++}.csv`, text)
      const whole = outcome(() => parse(Buffer.from(text), csvParseOptions) as string[][])
      let planned
      try {
        planned = await planFileSource({ type: 'file', path, format: 'csv', columns }, data.dir)
      } catch (error) {
        assert.match((error as Error).message, /quoted field is not closed/)
        assert.ok('error' in whole, 'csv-parse reads a file the index refuses')
        return
      }
      const { params, total } = planned
      const offsets = new Float64Array(params.offsets)
      const bytes = Buffer.from(text)
      const header = params.header ?? []
      const rows = Array.from({ length: total }, (_, i) => outcome(() => {
        const parsed = parse(bytes.subarray(offsets[i], offsets[i + 1]), { ...csvParseOptions, bom: false }) as string[][]
        if (parsed.length !== 1) throw new Error(`${parsed.length} rows`)
        return parsed[0]
      }))
      if ('value' in whole) assert.deepEqual(rows, whole.value.slice(1).map((value) => ({ value })))
      const reference = new CsvFileReader(params)
      const reader = new CsvFileReader(params)
      try {
        for (let offset = 0; offset < total; offset += chunk) {
          const count = Math.min(chunk, total - offset)
          const raws = reader.read(offset, count)
          assert.equal(raws.length, count)
          for (let i = 0; i < count; i++) {
            const row = rows[offset + i]
            const decoded = outcome(() => reader.decode(raws[i]))
            if ('error' in row) {
              assert.ok('error' in decoded && decoded.error.startsWith(`${path}: not valid CSV: `), `record ${offset + i} of ${JSON.stringify(text)}`)
            } else if (row.value.length !== header.length) {
              assert.deepEqual(decoded, { error: `${path}: the row has ${row.value.length} fields, the header has ${header.length}` })
            } else {
              const typed = outcome(() => reference.decode(row.value))
              assert.deepEqual(decoded, typed)
              if ('value' in typed) for (const [k, v] of Object.entries(typed.value)) if (columns[k] === 'string') assert.equal(v, row.value[header.indexOf(k)])
            }
            const projected = reader.decodeFields(raws[i], wanted)
            if ('error' in decoded) assert.equal(projected, undefined)
            else assert.deepEqual(projected, Object.fromEntries(Object.entries(decoded.value).filter(([k]) => wanted.has(k))))
          }
        }
      } finally {
        reader.close()
        reference.close()
      }
    }), { numRuns: 500 })
    recordIndexCache.clear()
  })

  it('reads a CRLF file without quotes exactly, and keeps the \\r of a last line without a line end, as csv-parse does', async () => {
    const text = 'a,b\r\n1,2\r\n\r\n\n3,\r\r\n,4\r'
    await data.write('crlf.csv', text)
    const [, ...rows] = parse(Buffer.from(text), csvParseOptions) as string[][]
    assert.deepEqual(rows, [['1', '2'], ['3', '\r'], ['', '4\r']])
    for (const chunk of [1, 2, 3]) {
      const run = await scan({ source: { type: 'file', path: 'crlf.csv', format: 'csv' } }, data.ctx, { chunk })
      assert.deepEqual(run.results, rows.map(([a, b]) => ({ a, b })))
    }
  })

  it('filters on projected columns, still refusing a row whose unread typed column does not convert, unless its bytes rule it out', async () => {
    await data.write('proj.csv', 'id,kind,amount,qty\n1,x,5,2\n2,x,7,z\n3,x,200,4\n4,x,1,\n5,x,9\n6,y,7,z\n7,y,1,w\n8,y,1,1\n')
    const run = await scan({
      source: { type: 'file', path: 'proj.csv', format: 'csv', columns: { amount: 'number', qty: 'integer' } },
      pipeline: [{ filter: 'record.kind == "x" && record.amount > 2.0' }]
    }, data.ctx, { onError: 'skip', chunk: 10 })
    assert.deepEqual(run.results, [{ id: '1', kind: 'x', amount: 5, qty: 2 }, { id: '3', kind: 'x', amount: 200, qty: 4 }])
    assert.deepEqual(run.errors.map((e) => e.offset), [1, 4])
    assert.match(run.errors[0].message, /proj\.csv: column "qty": "z" is not an integer/)
    assert.match(run.errors[1].message, /the row has 3 fields, the header has 4/)
  })
})

describe('CSV records with simple quoted fields', () => {
  const options = { ...csvParseOptions, bom: false }
  const token = fc.constantFrom('a', 'é', ' ', ',', '"', '""', '\r', '\n', '\r\n')

  it('never reads a record otherwise than csv-parse does (property)', () => {
    fc.assert(fc.property(fc.array(token, { maxLength: 12 }).map((t) => t.join('')), (text) => {
      const fields = csvQuotedLineFields(text)
      if (fields === undefined) return
      assert.deepEqual(parse(Buffer.from(text), options), [fields], JSON.stringify(text))
    }), { numRuns: 20000 })
  })

  it('reads every record whose quoted fields hold no quote and no line break (property)', () => {
    const plain = fc.array(fc.constantFrom('a', 'é', ' ', '1'), { maxLength: 3 }).map((t) => t.join(''))
    const quoted = fc.array(fc.constantFrom('a', 'é', ' ', ',', '\r'), { maxLength: 3 }).map((t) => `"${t.join('')}"`)
    const record = fc.tuple(fc.array(fc.oneof(plain, quoted), { minLength: 1, maxLength: 5 }), fc.constantFrom('', '\n', '\r\n', '\n\r\n\n'))
      .filter(([fields]) => fields.join(',') !== '')
      .map(([fields, end]) => fields.join(',') + end)
    fc.assert(fc.property(record, (text) => {
      const fields = csvQuotedLineFields(text)
      assert.notEqual(fields, undefined, JSON.stringify(text))
      assert.deepEqual(parse(Buffer.from(text), options), [fields])
    }), { numRuns: 3000 })
  })
})

describe('CSV number column', () => {
  it('accepts exactly the JSON-like decimals, with spaces around, and gives what Number gives (property)', () => {
    const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/
    const convert = columnConverter('n', 'number')
    const text = fc.array(fc.constantFrom('0', '1', '9', '.', '+', '-', 'e', 'E', ' ', '\t', '\u00a0', 'x', '9'.repeat(400)), { maxLength: 8 }).map((p) => p.join(''))
    fc.assert(fc.property(text, (t) => {
      const trimmed = t.trim()
      const value = Number(trimmed)
      const expected = trimmed === '' ? { value: null } : NUMBER.test(trimmed) && Number.isFinite(value) ? { value } : { error: 'x' }
      const got = outcome(() => convert(t))
      assert.deepEqual('error' in got ? { error: 'x' } : got, expected, JSON.stringify(t))
    }), { numRuns: 3000 })
  })
})
