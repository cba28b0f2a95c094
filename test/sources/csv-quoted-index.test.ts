import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import fc from 'fast-check'
import { indexCsv, UnterminatedQuoteError } from '../../src/sources/record-index.js'
import { naiveCsvOrError, offsetsOf } from '../helpers/naive-record-starts.js'
import { makeDataDir, type DataDir } from '../helpers/scan-task-harness.js'

const MIB = 1024 * 1024

const inner = fc.constantFrom('a', ',', '\n', '\r\n', '\r', '""', ' ', 'ü', 'x'.repeat(63))
const quoted = fc.array(inner, { maxLength: 6 }).map((pieces) => `"${pieces.join('')}"`)
const plain = fc.constantFrom('', '1', 'abc', '2.5', ' ')
/** Quotes that do not open a field as RFC 4180 has it (inside an unquoted field, or after a closed one). */
const stray = fc.constantFrom('a"b', '5" tall', '"a"b', '"a"b"c', '"a"\r"', ' "x\n"')
const field = (strays: boolean) => fc.oneof(
  { weight: 6, arbitrary: quoted },
  { weight: 3, arbitrary: plain },
  { weight: 1, arbitrary: fc.constant('""') },
  { weight: strays ? 1 : 0, arbitrary: stray }
)
const records = fc.boolean().chain((strays) => fc.array(
  fc.tuple(fc.array(field(strays), { minLength: 1, maxLength: 4 }), fc.constantFrom('\n', '\r\n', '\n\n')).map(([fields, end]) => fields.join(',') + end),
  { maxLength: 30 }
)).map((lines) => lines.join(''))
const tail = fc.constantFrom('', '', '"open', '"open\n', 'a,"b"', '"a""')
/** A mostly quoted CSV text: a first line of 0-130 bytes moves every later quote across the 64-byte chunks of the search. */
const quotedCsv = fc.tuple(fc.boolean(), fc.nat({ max: 130 }), records, tail)
  .map(([mark, pad, body, end]) => Buffer.from((mark ? '\ufeff' : '') + (pad > 0 ? 'p'.repeat(pad) + '\n' : '') + body + end))
const readBytes = fc.oneof(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 60, max: 200 }), fc.constantFrom(64, 128, MIB))

/** A text of about 1 MiB (repeated `unit`, or one quoted field when `unit` is "q") whose last bytes reach `length`. */
const prefix = (unit: string, length: number) => (unit === 'q' ? '"' + 'q'.repeat(length - 1) : unit.repeat(Math.ceil(length / unit.length)).slice(0, length))

async function assertLikeReference (path: string, bytes: Uint8Array, options: { readBytes?: number, simd: boolean }): Promise<void> {
  const expected = naiveCsvOrError(bytes)
  const got = await indexCsv(path, options).then(offsetsOf, (error: unknown) => error)
  if (expected instanceof UnterminatedQuoteError) {
    assert.ok(got instanceof UnterminatedQuoteError, `expected an unclosed quote, got ${String(got)}`)
    assert.equal(got.recordStart, expected.recordStart)
  } else {
    assert.deepEqual(got, expected)
  }
}

describe('quoted CSV index pass', () => {
  let data: DataDir
  before(async () => { data = await makeDataDir() })
  after(async () => { await data.remove() })

  for (const simd of [true, false]) {
    const search = simd ? 'WebAssembly SIMD' : 'Buffer.indexOf'
    it(`finds the record starts of the byte-at-a-time reference in quoted fields with line breaks, doubled and stray quotes, for any read size (${search}, property)`, async () => {
      await fc.assert(fc.asyncProperty(quotedCsv, readBytes, async (bytes, size) => {
        const path = join(data.dir, await data.write('quoted.csv', bytes))
        await assertLikeReference(path, bytes, { readBytes: size, simd })
      }), { numRuns: 400 })
    })

    it(`agrees with the reference where quoted records begin a few bytes either side of a 1 MiB block boundary (${search}, property)`, async () => {
      const unit = fc.constantFrom('"a\nb","c""d",e\r\n', 'x,"y"\n', '"",1\n', 'q')
      await fc.assert(fc.asyncProperty(unit, fc.integer({ min: -130, max: 130 }), records, tail, async (repeated, shift, body, end) => {
        const bytes = Buffer.from(prefix(repeated, MIB + shift) + body + end)
        const path = join(data.dir, await data.write('boundary.csv', bytes))
        await assertLikeReference(path, bytes, { simd })
      }), { numRuns: 30 })
    })
  }

  it('agrees with the reference on each quote construct placed on every byte around a block boundary and a 64-byte boundary', async () => {
    const constructs = [',"a""b"\n', ',""\n', ',""""\n', ',"\n"\n', ',"x\r\n"\r\n', ',"a"b"\n', 'a"b\n', ',"",""\n']
    for (const construct of constructs) {
      for (let shift = -construct.length - 1; shift <= 1; shift++) {
        const bytes = Buffer.from(prefix('"a\nb",c\n', MIB + shift) + '\n' + construct + 'z,"end"\n')
        const path = join(data.dir, await data.write('construct.csv', bytes))
        for (const options of [{ simd: true }, { simd: true, readBytes: 64 * 1024 + 64 }, { simd: true, readBytes: 100 * 64 }]) {
          assert.deepEqual(offsetsOf(await indexCsv(path, options)), naiveCsvOrError(bytes), `${JSON.stringify(construct)}, shift ${shift}, ${JSON.stringify(options)}`)
        }
      }
    }
  })

  it('reports the record of a quote left open at the end of a file of many blocks', async () => {
    const body = '"a\nb","c""d"\r\n'.repeat(200_000)
    const path = join(data.dir, await data.write('open.csv', body + 'x,"never closed\n' + 'y\n'.repeat(10)))
    await assert.rejects(indexCsv(path), (error: unknown) => error instanceof UnterminatedQuoteError && error.recordStart === Buffer.byteLength(body))
  })

  it('indexes quoted fields holding line breaks in a runtime without WebAssembly (node --jitless)', async () => {
    const text = 'a,"b\nc"\r\n\n"d""\n",e\n"f"'
    const path = join(data.dir, await data.write('jitless.csv', text))
    const index = new URL('../../src/sources/record-index.js', import.meta.url).href
    const script = `const { offsets, count } = await (await import(${JSON.stringify(index)})).indexCsv(process.argv[1])
      console.log(typeof WebAssembly, Array.from({ length: count + 1 }, (_, i) => offsets.get(i)).join(' '))`
    const { stdout } = await promisify(execFile)(process.execPath, ['--jitless', '--no-warnings', '--input-type=module', '-e', script, path])
    assert.equal(stdout.trim(), `undefined ${naiveCsvOrError(Buffer.from(text)).toString().replaceAll(',', ' ')}`)
  })
})
