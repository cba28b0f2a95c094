import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { join } from 'node:path'
import fc from 'fast-check'
import { indexCsv, indexNdjson, UnterminatedQuoteError } from '../../src/sources/record-index.js'
import { naiveCsv, naiveNdjson, offsetsOf } from '../helpers/naive-record-starts.js'
import { makeDataDir, type DataDir } from '../helpers/scan-task-harness.js'

const piece = fc.constantFrom('\n', '\r\n', '\r', '"', '""', ',', ' ', '\t', 'a', '{"k":1}', 'ü', '🦊', 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx')
const file = fc.tuple(fc.boolean(), fc.array(piece, { maxLength: 80 })).map(([mark, pieces]) => Buffer.from((mark ? '\ufeff' : '') + pieces.join('')))
const readBytes = fc.oneof(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 60, max: 200 }), fc.constant(1 << 20))

describe('record index pass', () => {
  let data: DataDir
  before(async () => { data = await makeDataDir() })
  after(async () => { await data.remove() })

  for (const simd of [true, false]) {
    const search = simd ? 'WebAssembly SIMD' : 'Buffer.indexOf'
    it(`finds the NDJSON record starts of a byte-at-a-time reference, for any read size (${search}, property)`, async () => {
      await fc.assert(fc.asyncProperty(file, readBytes, async (bytes, size) => {
        const path = join(data.dir, await data.write('random.ndjson', bytes))
        assert.deepEqual(offsetsOf(await indexNdjson(path, { readBytes: size, simd })), naiveNdjson(bytes))
      }), { numRuns: 400 })
    })

    it(`finds the CSV record starts of a byte-at-a-time reference, or its unclosed quote, for any read size (${search}, property)`, async () => {
      await fc.assert(fc.asyncProperty(file, readBytes, async (bytes, size) => {
        const path = join(data.dir, await data.write('random.csv', bytes))
        let expected: number[] | UnterminatedQuoteError
        try {
          expected = naiveCsv(bytes)
        } catch (error) {
          expected = error as UnterminatedQuoteError
        }
        const got = await indexCsv(path, { readBytes: size, simd }).then(offsetsOf, (error: unknown) => error)
        if (expected instanceof UnterminatedQuoteError) {
          assert.ok(got instanceof UnterminatedQuoteError, `expected an unclosed quote, got ${String(got)}`)
          assert.equal(got.recordStart, expected.recordStart)
        } else {
          assert.deepEqual(got, expected)
        }
      }), { numRuns: 400 })
    })
  }

  it('agrees with the reference on quotes and line ends that fall on every block boundary', async () => {
    const texts = ['"a""\n"\nz\n', '"a""b"\nx,"""",y\n"c\r\nd"\r\n', 'a,"b"\r\n\r\n"""",""\n""""""\n', '\ufeff"x"\n,\n"\n"\n  \n\t{}\r\n\r']
    for (const text of texts) {
      const bytes = Buffer.from(text)
      const path = join(data.dir, await data.write('edges.csv', bytes))
      for (let readBytes = 1; readBytes <= bytes.length + 1; readBytes++) {
        assert.deepEqual(offsetsOf(await indexCsv(path, { readBytes })), naiveCsv(bytes), `${JSON.stringify(text)}, read size ${readBytes}`)
        assert.deepEqual(offsetsOf(await indexNdjson(path, { readBytes })), naiveNdjson(bytes), `${JSON.stringify(text)}, read size ${readBytes}`)
      }
    }
  })

  it('agrees with the reference over several full 1 MiB blocks, with a quoted field and a line that span blocks', async () => {
    let seed = 7
    const random = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32
    const pieces = ['\n', '\r\n', '""', ',', ' ', 'a', '{"k":"ü"}', '\n\n', ',"x\ny",']
    const parts: string[] = []
    for (let size = 0; size < 3 * 1024 * 1024;) {
      const piece = random() < 0.001 ? `,"${'q'.repeat(750_000)}\n${'q'.repeat(750_000)}",` : pieces[Math.floor(random() * pieces.length)]
      parts.push(piece)
      size += piece.length
    }
    const bytes = Buffer.from(parts.join(''))
    const path = join(data.dir, await data.write('blocks.csv', bytes))
    const csv = naiveCsv(bytes)
    assert.ok(csv.some((start, i) => csv[i + 1] - start > 1024 * 1024), 'a record longer than a block')
    for (const readBytes of [undefined, 65_536 + 13]) {
      assert.deepEqual(offsetsOf(await indexNdjson(path, { readBytes })), naiveNdjson(bytes))
      assert.deepEqual(offsetsOf(await indexCsv(path, { readBytes })), csv)
    }
  })

  it('refuses a read size that is not a whole number of bytes from 1 to 64 MiB', async () => {
    const path = join(data.dir, await data.write('small.ndjson', '{}\n'))
    for (const readBytes of [0, -1, 1.5, Number.NaN, 64 * 1024 * 1024 + 1]) {
      await assert.rejects(indexNdjson(path, { readBytes }), /readBytes must be an integer from 1 to 67108864/)
    }
  })

  it('indexes an empty file, a lone byte order mark and files of only line ends as no records', async () => {
    for (const text of ['', '\ufeff', '\n', '\r\n\r\n', '\ufeff\n\n']) {
      const path = join(data.dir, await data.write('blank.txt', text))
      const size = Buffer.byteLength(text)
      assert.deepEqual(offsetsOf(await indexNdjson(path)), [size])
      assert.deepEqual(offsetsOf(await indexCsv(path)), [size])
    }
  })

  it('keeps every offset past the 64 Ki offsets of one page, in order, and shares them from any record on', async () => {
    const bytes = Buffer.from('1\n'.repeat(200_000) + '"a\nb",c')
    const path = join(data.dir, await data.write('many.csv', bytes))
    const ndjson = await indexNdjson(path, { readBytes: 4096 })
    assert.equal(ndjson.count, 200_002)
    assert.deepEqual(offsetsOf(ndjson), naiveNdjson(bytes))
    const expected = naiveCsv(bytes)
    const csv = await indexCsv(path, { readBytes: 4093 })
    assert.equal(csv.count, 200_001)
    assert.deepEqual(offsetsOf(csv), expected)
    for (const from of [0, 1, 65_535, 65_536, 131_073, 200_001]) {
      const { offsets } = await indexCsv(path)
      assert.deepEqual(Array.from(new Float64Array(offsets.toShared(from))), expected.slice(from), `from ${from}`)
      assert.equal(offsets.length, 0)
    }
  })
})
