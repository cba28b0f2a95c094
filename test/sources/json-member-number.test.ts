import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { memberNumber } from '../../src/sources/json-member-number.js'
import { objectText } from '../helpers/json-number-lines.js'

const KEY = Buffer.from('n')

/** What the filters see: the top-level `n` of the parsed line when it is a number; NaN for anything else. */
function parsed (text: string): number {
  const value = (JSON.parse(text) as Record<string, unknown>).n
  return typeof value === 'number' ? value : NaN
}

/** The line inside a chunk: other lines before and after it, its line end and any blank lines after it. */
function inChunk (text: string, before: string, after: string): { bytes: Buffer, start: number, end: number } {
  const head = Buffer.from(before)
  const line = Buffer.from(text)
  return { bytes: Buffer.concat([head, line, Buffer.from(after)]), start: head.length, end: head.length + line.length }
}

describe('a member\'s number from the bytes of a line', () => {
  it('is exactly what JSON.parse gives, for every spelling of the number and every place of the key', () => {
    fc.assert(fc.property(objectText(), fc.constantFrom('', '{"n":1}\n'), fc.constantFrom('', '\n', '\r\n', '\n\n', ' \t\n', '\n{"n":2}\n'), (text, before, after) => {
      const { bytes, start, end } = inChunk(text, before, after)
      const lineEnd = after.startsWith('\n{') ? end + 1 : end + after.length
      assert.ok(Object.is(memberNumber(bytes, start, lineEnd, KEY), parsed(text)), text)
    }), { numRuns: 5000 })
  })

  it('is exact for numbers that need every digit, or fall outside a double', () => {
    for (const n of ['1e400', '-1e400', '1e-400', '-0', '-0.0', '5e-324', '9007199254740993', '0.1000000000000000055511151231257827', '400.00000000000006', '1E+2']) {
      for (const text of [`{"n":${n}}`, `{"n" : ${n} , "x":1}`, `{"x":{"n":1},"n":${n}}`, `{"n":1,"n":${n}}`, `{"n":${n},"s":"n:0}"}`]) {
        const { bytes, start, end } = inChunk(text + '\n', '', '')
        assert.ok(Object.is(memberNumber(bytes, start, end, KEY), parsed(text)), text)
      }
    }
  })

  it('gives NaN where no top-level number is named so: nested, inside strings, another type, a longer key', () => {
    for (const text of ['{"x":{"n":5}}', '{"x":[{"n":5}]}', '{"s":"n:5","t":"{n:5}"}', '{"n":"5"}', '{"n":null}', '{"n":[5]}', '{"nn":5}', '{"N":5}', '{}', '{"n":5,"n":"x"}', '{"x":"n","y":5}']) {
      const { bytes, start, end } = inChunk(text, '', '\n')
      assert.ok(Number.isNaN(memberNumber(bytes, start, end + 1, KEY)), text)
    }
  })

  it('reads any bytes without throwing or reading past the line (not JSON: any answer)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), fc.constantFrom(Buffer.from('n'), Buffer.from('amount'), Buffer.alloc(0)), (line, key) => {
      const bytes = Buffer.concat([Buffer.from(line), Buffer.from('"n":7}')])
      const answer = memberNumber(bytes, 0, line.length, key)
      assert.equal(typeof answer, 'number')
      assert.notEqual(answer, 7, 'the bytes after the line are not read')
    }), { numRuns: 3000 })
  })
})
