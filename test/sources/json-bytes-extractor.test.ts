import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { extractJsonFieldsFromBytes, WantedFields } from '../../src/sources/json-bytes-extractor.js'
import { numberText } from '../helpers/json-number-lines.js'

const WANTED = ['type', 'n', 'é', 'k', '']

/** What JSON.parse gives for the wanted members of the line, or undefined when it is not a JSON object. */
function parsed (text: string): Record<string, unknown> | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  const out: Record<string, unknown> = {}
  for (const key of WANTED) if (Object.hasOwn(value, key)) out[key] = (value as Record<string, unknown>)[key]
  return out
}

function extracted (text: string, around = ''): Record<string, unknown> | undefined {
  const bytes = Buffer.from(around + text + '\n' + around)
  const start = Buffer.byteLength(around)
  return extractJsonFieldsFromBytes(bytes, start, start + Buffer.byteLength(text) + 1, new WantedFields(new Set(WANTED)))
}

/** A name as a writer may spell it: plain, or with its first character escaped. */
const keyText = fc.tuple(fc.constantFrom('type', 'n', 'é', 'k', '', 'types', 'x', 'ty"pe'), fc.boolean()).map(([name, escape]) =>
  escape && name !== '' ? `"\\u${name.charCodeAt(0).toString(16).padStart(4, '0')}${JSON.stringify(name).slice(2)}` : JSON.stringify(name))

/** Strings with escapes, non-ASCII text and the few values a field such as a type takes. */
const stringText = fc.oneof(
  fc.constantFrom('view', 'click', 'purchase', 'vie', 'views', 'VIEW', '', 'é', '😀', 'a"b', 'a\\b', 'line\nbreak', 'tab\t', '\u0000', '\u2028').map((s) => JSON.stringify(s)),
  fc.string({ unit: 'binary', maxLength: 12 }).map((s) => JSON.stringify(s)),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom('"\\u0076iew"', '"\\/"', '"\\ud83d\\ude00"', '"\\ud800"')
)

const space = fc.constantFrom('', '', ' ', '\t', ' \r ')

const valueText: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true },
    { weight: 3, arbitrary: stringText },
    { weight: 3, arbitrary: numberText },
    { weight: 1, arbitrary: fc.constantFrom('true', 'false', 'null', '{}', '[]') },
    { weight: 1, arbitrary: fc.array(fc.tuple(keyText, tie('value')), { maxLength: 3 }).map((members) => `{${members.map(([k, v]) => `${k}:${v}`).join(',')}}`) },
    { weight: 1, arbitrary: fc.array(tie('value'), { maxLength: 3 }).map((items) => `[${items.join(', ')}]`) }
  )
})).value

/** Objects written member by member, so that keys repeat (the last counts) and spacing varies. */
const objectText = fc.tuple(space, fc.array(fc.tuple(keyText, space, space, valueText, space), { maxLength: 7 })).map(([s, members]) =>
  `${s}{${s}${members.map(([k, a, b, v, c]) => `${k}${a}:${b}${v}${c}`).join(',' + s)}}${s}`)

/** A valid line broken in one place, or left alone. */
const lineText = fc.tuple(objectText, fc.nat(), fc.nat(), fc.constantFrom('', '', '"', '\\', ',', '}', '{', ']', ':', '-', '0', '.', 'e', '\u0001', '\t', 'tru', 'x', '"type":"view"'))
  .map(([text, at, cut, insert]) => {
    if (insert === '' && cut % 4 === 0) return text
    const i = at % (text.length + 1)
    return text.slice(0, i) + insert + text.slice(i + (cut % 3))
  })

describe('JSON members from the bytes of a line', () => {
  it('are what JSON.parse gives for the wanted members, for valid and invalid lines alike (property)', () => {
    fc.assert(fc.property(lineText, fc.constantFrom('', '{"type":"x"}', '9'), (line, around) => {
      const text = Buffer.from(line).toString('utf8')
      assert.deepEqual(extracted(text, around), parsed(text), JSON.stringify(text))
    }), { numRuns: 10000 })
  })

  it('give each line its own strings when many values share a length and compete for the table of decoded strings', () => {
    fc.assert(fc.property(fc.array(fc.stringMatching(/^[a-z0-9]{0,6}$/), { minLength: 1, maxLength: 200 }), (values) => {
      for (const value of values) assert.equal(extracted(`{"type":${JSON.stringify(value)}}`)?.type, value)
    }), { numRuns: 300 })
  })

  it('read a number that runs to the end of the bytes as no number at all', () => {
    const bytes = Buffer.from('{"n":12345}')
    assert.equal(extractJsonFieldsFromBytes(bytes, 0, 8, new WantedFields(new Set(['n']))), undefined)
    assert.equal(extractJsonFieldsFromBytes(bytes, 0, 6, new WantedFields(new Set(['n']))), undefined)
    assert.deepEqual(extractJsonFieldsFromBytes(bytes, 0, bytes.length, new WantedFields(new Set(['n']))), { n: 12345 })
  })
})
