import assert from 'node:assert/strict'
import { isUtf8 } from 'node:buffer'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import { firstInvalidUtf8 } from '../../src/sources/utf8-check.js'
import { makeDataDir, scan, type DataDir } from '../helpers/scan-task-harness.js'

/** Byte sequences that are not UTF-8; none of them is followed by a continuation byte in the files below. */
const BAD: Array<[string, number[]]> = [
  ['Latin-1 é', [0xe9]], ['0xff', [0xff]], ['lone continuation byte', [0x80]],
  ['overlong /', [0xc0, 0xaf]], ['overlong NUL', [0xc0, 0x80]], ['overlong three-byte', [0xe0, 0x80, 0x80]], ['overlong four-byte', [0xf0, 0x80, 0x80, 0x80]],
  ['lone high surrogate', [0xed, 0xa0, 0x80]], ['lone low surrogate', [0xed, 0xbf, 0xbf]], ['past U+10FFFF', [0xf4, 0x90, 0x80, 0x80]], ['F5 lead byte', [0xf5, 0x80, 0x80, 0x80]],
  ['two of three bytes', [0xe2, 0x82]], ['three of four bytes', [0xf0, 0x9f, 0x98]], ['one of two bytes', [0xc3]]
]
const hex = (bytes: number[]): string => bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ')
const MESSAGE = /: not valid UTF-8 at byte (\d+) of the file \(bytes ([0-9a-f ]+)\)$/

const badBytes = fc.constantFrom(...BAD.map(([, bytes]) => bytes))
/** Text that is valid UTF-8 and has no CSV or JSON syntax in it. */
const text = fc.string({ unit: 'grapheme', maxLength: 5 }).map((s) => [...s].filter((c) => c >= ' ' && !'",\\\u2028\u2029\ufeff'.includes(c)).join(''))
const row = fc.record({
  type: fc.constantFrom('purchase', 'view'),
  before: text,
  after: text,
  bad: fc.option(badBytes, { freq: 3, nil: undefined }),
  end: fc.constantFrom('\n', '\r\n', '\n\n'),
  /** CSV only: how the text field is written (each way takes another parser path). */
  quoting: fc.constantFrom('plain', 'quoted', 'doubled', 'line break')
})
const file = fc.record({
  rows: fc.array(row, { minLength: 1, maxLength: 12 }),
  /** The file ends right after the bad bytes of its last row: a sequence cut short by the end of the file. */
  cutAtEnd: fc.boolean(),
  bom: fc.boolean(),
  chunk: fc.integer({ min: 1, max: 5 })
})
type File = typeof file extends fc.Arbitrary<infer T> ? T : never

interface Built {
  bytes: Buffer
  /** Per row: its record (undefined for a bad row), and where its bad bytes start in the file. */
  rows: Array<{ record?: { id: number, type: string, s: string }, at?: number }>
}

/** A file of the rows: `{"id":…,"type":…,"s":…}` lines, or a CSV file `id,type,s` with the text field written as each row says. */
function build ({ rows, cutAtEnd, bom }: File, format: 'ndjson' | 'csv'): Built {
  const parts: Buffer[] = []
  let size = 0
  const put = (part: Buffer | string): void => {
    const b = typeof part === 'string' ? Buffer.from(part) : part
    parts.push(b)
    size += b.length
  }
  if (bom) put('\ufeff')
  if (format === 'csv') put('id,type,s\n')
  const out: Built['rows'] = []
  rows.forEach((r, id) => {
    const cut = cutAtEnd && id === rows.length - 1 && r.bad !== undefined
    // a quoted field that the end of the file leaves open makes the whole file unreadable
    const quoting = cut ? 'plain' : r.quoting
    const [open, extra, close] = format === 'ndjson'
      ? [`{"id":${id},"type":"${r.type}","s":"`, '', '"}']
      : quoting === 'plain' ? [`${id},${r.type},`, '', ''] : [`${id},${r.type},"`, quoting === 'doubled' ? '""' : quoting === 'line break' ? '\n' : '', '"']
    put(open + r.before)
    let at: number | undefined
    if (r.bad !== undefined) {
      at = size
      put(Buffer.from(r.bad))
    }
    if (!cut) put(extra + r.after + close + (id < rows.length - 1 ? r.end : ''))
    const s = r.before + (extra === '""' ? '"' : extra) + r.after
    out.push(r.bad === undefined ? { record: { id, type: r.type, s } } : { at })
  })
  return { bytes: Buffer.concat(parts), rows: out }
}

const PIPELINES: Array<{ steps: unknown[], keep: (record: { id: number, type: string, s: string }) => unknown }> = [
  { steps: [], keep: (record) => record },
  { steps: [{ filter: 'record.type == "purchase"' }], keep: (record) => record.type === 'purchase' ? record : null },
  { steps: [{ filter: 'record.type == "view"' }, { map: 'record.s' }], keep: (record) => record.type === 'view' ? record.s : null },
  { steps: [{ filter: 'record.id >= 1.0' }, { map: '[record.id, record.s]' }], keep: (record) => record.id >= 1 ? [record.id, record.s] : null }
]

let files = 0

describe('bytes that are not UTF-8 in NDJSON and CSV files', () => {
  let data: DataDir
  before(async () => { data = await makeDataDir() })
  after(async () => { await data.remove() })

  it('firstInvalidUtf8 agrees with the native check and finds where the first replacement character of a decode comes from (fast-check)', () => {
    const piece = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 3 }).map((s) => [...Buffer.from(s)]), badBytes, fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 3 }))
    fc.assert(fc.property(fc.array(piece, { maxLength: 8 }), (pieces) => {
      const bytes = Buffer.from(pieces.flat())
      const at = firstInvalidUtf8(bytes)
      assert.equal(at === -1, isUtf8(bytes))
      if (at === -1) return
      const prefix = bytes.toString('utf8', 0, at)
      assert.ok(isUtf8(bytes.subarray(0, at)))
      if (!prefix.includes('\uFFFD')) assert.equal(bytes.toString('utf8').indexOf('\uFFFD'), prefix.length)
    }), { numRuns: 2000 })
    for (const [name, bytes] of BAD) assert.equal(firstInvalidUtf8(Buffer.from([0x61, ...bytes, 0x61])), 1, name)
    assert.equal(firstInvalidUtf8(Buffer.from('€😀\u{10FFFF}\uD7FF\uE000')), -1)
  })

  for (const format of ['ndjson', 'csv'] as const) {
    it(`${format}: exactly the records that hold such bytes fail, naming the byte, before any raw filter; the other records are read as before (fast-check)`, async () => {
      await fc.assert(fc.asyncProperty(file, fc.integer({ min: 0, max: PIPELINES.length - 1 }), async (spec, p) => {
        const built = build(spec, format)
        const path = await data.write(`utf8-${files++}.${format}`, built.bytes)
        const pipeline = PIPELINES[p]
        const source = format === 'csv' ? { type: 'file', path, columns: { id: 'integer' } } : { type: 'file', path }
        const run = await scan({ source, pipeline: pipeline.steps }, data.ctx, { chunk: spec.chunk, onError: 'skip' })
        const expected = built.rows.flatMap((r) => r.record === undefined ? [] : [pipeline.keep(r.record)]).filter((value) => value !== null)
        assert.deepEqual(run.results, expected)
        const failed = built.rows.flatMap((r, offset) => r.at === undefined ? [] : [{ offset, at: r.at, bytes: hex(spec.rows[offset].bad as number[]) }])
        assert.deepEqual(run.errors.map((e) => e.offset), failed.map((f) => f.offset))
        run.errors.forEach((error, i) => {
          const match = MESSAGE.exec(error.message)
          assert.ok(match !== null, error.message)
          assert.equal(Number(match[1]), failed[i].at)
          assert.equal(match[2], failed[i].bytes)
          assert.ok(error.message.startsWith(path))
        })
      }), { numRuns: 150 })
    })
  }

  it('with on_error fail, the scan fails at the first such record with its offset', async () => {
    const path = await data.write('fail.ndjson', Buffer.concat([Buffer.from('{"a":1}\n{"a":2}\n{"a":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}\n{"a":4}\n')]))
    await assert.rejects(scan({ source: { type: 'file', path }, pipeline: [{ filter: 'record.a == "never"' }] }, data.ctx, { chunk: 2 }),
      /^Error: record 2: fail\.ndjson: not valid UTF-8 at byte 22 of the file \(bytes ed a0 80\)$/)
  })

  it('a CSV header that is not UTF-8 makes the file unreadable at submit; a valid header and a byte order mark are fine', async () => {
    const bad = await data.write('header.csv', Buffer.concat([Buffer.from('\ufeffid,"na'), Buffer.from([0xe9]), Buffer.from('me"\n1,x\n')]))
    await assert.rejects(scan({ source: { type: 'file', path: bad } }, data.ctx), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'PARASCAN_SOURCE_FILE')
      assert.match(error.message, /the header row is not valid UTF-8 \(at byte 9\)/)
      return true
    })
    const good = await data.write('header-ok.csv', '\ufeffid,"n€\nme"\n1,x\n')
    assert.deepEqual((await scan({ source: { type: 'file', path: good } }, data.ctx)).results, [{ id: '1', 'n€\nme': 'x' }])
  })
})
