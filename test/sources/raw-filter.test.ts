import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import { impliedRawPredicate } from '../../src/pipeline/implied-raw-predicate.js'
import { objectText } from '../helpers/json-number-lines.js'
import { makeDataDir, scan, type DataDir } from '../helpers/scan-task-harness.js'

/** The run of the same records from an inline source, decoded whole; undefined when submit-time checks refuse it (records all of a type the filter cannot read). */
async function wholeRun (records: unknown[], pipeline: unknown[], ctx: DataDir['ctx'], chunk: number): Promise<Awaited<ReturnType<typeof scan>> | undefined> {
  try {
    return await scan({ source: { type: 'inline', records }, pipeline }, ctx, { chunk, onError: 'skip' })
  } catch (error) {
    if ((error as { code?: string }).code === 'PARASCAN_INVALID_SCAN') return undefined
    throw error
  }
}

/** Strings that the predicates look for, and strings that hold them or look like them. */
const LITERALS = ['purchase', 'view', 'pur', 'a"b', 'a\\b', 'é', '😀', '€uro', '', ' ', 'line\nbreak', 'x,y', '\u2028', '\uFFFD', '\ud800']
const text = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...LITERALS) },
  { weight: 2, arbitrary: fc.array(fc.constantFrom(...LITERALS), { minLength: 1, maxLength: 3 }).map((parts) => parts.join('')) },
  { weight: 1, arbitrary: fc.string({ maxLength: 6, unit: 'binary' }) }
)
const FIELDS = ['type', 'user', 'tag']
const KEYS = [...FIELDS, 'purchase', 'type"', 'nested', 'n']
const scalar = fc.oneof(text, fc.integer({ min: -5, max: 5 }), fc.double({ noNaN: true, noDefaultInfinity: true, min: -10, max: 10 }), fc.boolean(), fc.constant(null))
const value = fc.oneof(
  { weight: 5, arbitrary: scalar },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom(...KEYS), scalar, { maxKeys: 3 }) },
  { weight: 1, arbitrary: fc.array(scalar, { maxLength: 3 }) }
)
/** Records: usually objects with the fields the predicates read, sometimes without them, sometimes not objects. */
const record = fc.oneof(
  { weight: 8, arbitrary: fc.record({ type: text, user: text, tag: value }, { requiredKeys: ['type', 'user'] }).chain((base) => fc.dictionary(fc.constantFrom(...KEYS), value, { maxKeys: 3 }).map((extra) => ({ ...extra, ...base }))) },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom(...KEYS), value, { maxKeys: 4 }) },
  { weight: 1, arbitrary: fc.oneof(scalar, fc.array(text, { maxLength: 2 })) }
)

interface Style { escape: 'none' | 'values' | 'all', space: string }

function hex (unit: number): string {
  return '\\u' + unit.toString(16).padStart(4, '0')
}

/** JSON text of `v`; every letter and non-ASCII character of strings written as \uXXXX: in none, values only, or all strings. */
function write (v: unknown, style: Style, key = false): string {
  if (typeof v === 'string') {
    if (style.escape === 'none' || (key && style.escape === 'values')) return JSON.stringify(v)
    let out = '"'
    for (let i = 0; i < v.length; i++) {
      const c = v[i]
      const unit = v.charCodeAt(i)
      out += /[a-z]/i.test(c) || unit > 0x7e ? hex(unit) : JSON.stringify(c).slice(1, -1)
    }
    return out + '"'
  }
  if (Array.isArray(v)) return `[${style.space}${v.map((item) => write(item, style)).join(`,${style.space}`)}${style.space}]`
  if (typeof v === 'object' && v !== null) {
    return `{${style.space}${Object.entries(v).map(([k, item]) => `${write(k, style, true)}${style.space}:${style.space}${write(item, style)}`).join(`,${style.space}`)}${style.space}}`
  }
  return JSON.stringify(v)
}

const line = fc.record({ record: record.map((r) => JSON.parse(JSON.stringify(r)) as unknown), escape: fc.constantFrom<Style['escape']>('none', 'none', 'values', 'all'), space: fc.constantFrom('', '', ' ', '\t'), end: fc.constantFrom('\n', '\r\n', '\n\n') })

const literal = fc.constantFrom(...LITERALS.filter((l) => !l.includes('\ud800')), 'purchase"', 'zzz')
const field = fc.constantFrom(...FIELDS, 'missing')
const cel = (s: string) => JSON.stringify(s)
const atom = fc.oneof(
  fc.tuple(field, literal).map(([f, l]) => `record.${f} == ${cel(l)}`),
  fc.tuple(field, literal).map(([f, l]) => `${cel(l)} == record["${f}"]`),
  fc.tuple(field, fc.array(literal, { minLength: 1, maxLength: 3 })).map(([f, ls]) => `record.${f} in [${ls.map(cel).join(', ')}]`),
  fc.tuple(field, literal).map(([f, l]) => `record.${f}.contains(${cel(l)})`),
  fc.tuple(field, literal).map(([f, l]) => `record.${f} != ${cel(l)}`),
  field.map((f) => `has(record.${f})`),
  fc.constant('record.n > 0.0')
)
const OPS = ['<', '<=', '>', '>=', '==', '!=']
const numberLiteral = fc.constantFrom('0', '0.0', '-0.0', '-1', '2.5', '-(3)', '1e3', '400.0', '4e2', '9007199254740991', '1.5e-300')
/** A field compared with a number, either way round. */
const comparison = fc.tuple(fc.constantFrom('n', 'n', 'type', 'missing'), fc.constantFrom(...OPS), numberLiteral, fc.boolean())
  .map(([f, op, n, swapped]) => swapped ? `${n} ${op} record["${f}"]` : `record.${f} ${op} ${n}`)
const numericAtom = fc.oneof(atom, comparison, comparison)
const predicate: fc.Arbitrary<string> = fc.letrec((tie) => ({
  expr: fc.oneof({ depthSize: 'small', withCrossShrink: true },
    numericAtom,
    numericAtom,
    fc.tuple(tie('expr'), tie('expr')).map(([a, b]) => `(${a as string}) && (${b as string})`),
    fc.tuple(tie('expr'), tie('expr')).map(([a, b]) => `(${a as string}) || (${b as string})`),
    tie('expr').map((a) => `!(${a as string})`))
})).expr as fc.Arbitrary<string>

describe('raw filters', () => {
  let data: DataDir
  let files = 0
  before(async () => { data = await makeDataDir() })
  after(async () => { await data.remove() })

  it('derive predicates only from what keeps a record', () => {
    assert.deepEqual(impliedRawPredicate(['record.type == "purchase" && record.amount > 100.0']), {
      kind: 'all',
      parts: [{ kind: 'equals', field: 'type', value: 'purchase' }, { kind: 'compare', field: 'amount', op: '>', value: 100 }]
    })
    assert.deepEqual(impliedRawPredicate(['record.type == "purchase" && record.amount > record.limit']), { kind: 'equals', field: 'type', value: 'purchase' })
    assert.deepEqual(impliedRawPredicate(['record.a == "x" || record.b in ["y", "z"]', '"w" == record["c"]']), {
      kind: 'all',
      parts: [
        { kind: 'any', parts: [{ kind: 'equals', field: 'a', value: 'x' }, { kind: 'any', parts: [{ kind: 'equals', field: 'b', value: 'y' }, { kind: 'equals', field: 'b', value: 'z' }] }] },
        { kind: 'equals', field: 'c', value: 'w' }
      ]
    })
    assert.deepEqual(impliedRawPredicate(['record.amount > 400.0']), { kind: 'compare', field: 'amount', op: '>', value: 400 })
    assert.deepEqual(impliedRawPredicate(['-2 <= record["n"] || record.a == "x"']), { kind: 'any', parts: [{ kind: 'compare', field: 'n', op: '>=', value: -2 }, { kind: 'equals', field: 'a', value: 'x' }] })
    assert.deepEqual(impliedRawPredicate(['record.n != -(1.5)']), { kind: 'compare', field: 'n', op: '!=', value: -1.5 })
    for (const none of ['record.a != "x"', '!(record.a == "x")', '!(record.n > 1.0)', 'record.a == "x" || record.n.m > 1.0', 'record.n > 1u', 'record.n > 9007199254740993', 'record.n > record.m', 'record.n > int("1")', 'record.n + 1.0 > 2.0', 'record.a.b == "x"', 'record.a == record.b']) {
      assert.equal(impliedRawPredicate([none]), undefined, none)
    }
  })

  it('NDJSON: results are those of the same records decoded whole, whatever the spelling of the lines', async () => {
    await fc.assert(fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 30 }), fc.array(predicate, { minLength: 1, maxLength: 2 }), fc.integer({ min: 1, max: 40 }), async (lines, filters, chunk) => {
      const name = `raw-${files++}.ndjson`
      await data.write(name, lines.map((l) => write(l.record, { escape: l.escape, space: l.space }) + l.end).join(''))
      const pipeline = filters.map((filter) => ({ filter }))
      const raw = await scan({ source: { type: 'file', path: name, format: 'ndjson' }, pipeline }, data.ctx, { chunk, onError: 'skip' })
      const whole = await wholeRun(lines.map((l) => l.record), pipeline, data.ctx, chunk)
      if (whole === undefined) return
      assert.deepEqual(raw.results, whole.results)
      const failing = new Set(whole.errors.map((e) => e.offset))
      for (const error of raw.errors) assert.ok(failing.has(error.offset), `record ${error.offset} failed only with the raw filter: ${error.message}`)
    }), { numRuns: 400 })
  })

  it('NDJSON numbers: results are those of the lines decoded whole, for every spelling of the number and place of the key', async () => {
    const numberLine = fc.oneof(
      { weight: 6, arbitrary: objectText() },
      { weight: 1, arbitrary: objectText({ escapeKeys: true }) },
      { weight: 1, arbitrary: fc.tuple(objectText(), fc.nat(), fc.constantFrom('', '"', ',', '}', '{', ':', '-', 'e', '.', 'x')).map(([t, at, insert]) => t.slice(0, at % (t.length + 1)) + insert + t.slice(at % (t.length + 1) + 1)) },
      { weight: 1, arbitrary: fc.constantFrom('[1]', '5', '"n"', 'null', '{"n":5} {"n":1}') }
    )
    const filter = fc.oneof(comparison, fc.tuple(comparison, fc.oneof(comparison, atom), fc.constantFrom('&&', '||')).map(([a, b, op]) => `(${a}) ${op} (${b})`))
    await fc.assert(fc.asyncProperty(fc.array(fc.tuple(numberLine, fc.constantFrom('\n', '\r\n', '\n\n')), { minLength: 1, maxLength: 30 }), fc.array(filter, { minLength: 1, maxLength: 2 }), fc.boolean(), fc.integer({ min: 1, max: 40 }), async (lines, filters, count, chunk) => {
      const name = `numbers-${files++}.ndjson`
      await data.write(name, lines.map(([l, end]) => l + end).join(''))
      await data.write('spaced-' + name, lines.map(([l, end]) => ' ' + l + end).join(''))
      const body = (path: string) => ({ source: { type: 'file', path, format: 'ndjson' }, pipeline: filters.map((f) => ({ filter: f })), ...(count ? { aggregate: { metrics: { n: { op: 'count' } } } } : {}) })
      const raw = await scan(body(name), data.ctx, { chunk, onError: 'skip' })
      // A line that does not start with { is never ruled out by its bytes: the reference, decoded line by line.
      const decoded = await scan(body('spaced-' + name), data.ctx, { chunk, onError: 'skip' })
      const failing = new Set(decoded.errors.map((e) => e.offset))
      for (const error of raw.errors) assert.ok(failing.has(error.offset), `record ${error.offset} failed only with the raw filter: ${error.message}`)
      if (count) {
        // A line ruled out by its bytes is one that the filters drop or that fails: counted neither way.
        assert.deepEqual(raw.aggregate, decoded.aggregate)
        return
      }
      assert.deepEqual(raw.results, decoded.results)
      const records: unknown[] = []
      for (const [l] of lines) {
        try {
          // What the file holds: a cut through a surrogate pair is written as U+FFFD.
          records.push(JSON.parse(Buffer.from(l).toString('utf8')))
        } catch {
          return
        }
      }
      const whole = await wholeRun(records, filters.map((f) => ({ filter: f })), data.ctx, chunk)
      if (whole !== undefined) assert.deepEqual(raw.results, whole.results)
    }), { numRuns: 400 })
  })

  it('CSV: results are those of the same rows decoded whole, however they are quoted', async () => {
    const cell = text.filter((t) => !/[\ud800-\udfff]/.test(t.replace(/[\ud800-\udbff][\udc00-\udfff]/g, '')) && !t.includes('\r') && !t.includes('\ufeff'))
    const row = fc.record({ type: cell, user: cell, tag: cell, quoted: fc.boolean(), end: fc.constantFrom('\n', '\r\n', '\n\n') })
    await fc.assert(fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 30 }), fc.array(predicate, { minLength: 1, maxLength: 2 }), fc.integer({ min: 1, max: 40 }), async (rows, filters, chunk) => {
      const name = `raw-${files++}.csv`
      const quote = (t: string, always: boolean) => always || /[",\r\n]/.test(t) || t === '' ? `"${t.replaceAll('"', '""')}"` : t
      await data.write(name, 'type,user,tag\n' + rows.map((r) => [r.type, r.user, r.tag].map((t) => quote(t, r.quoted)).join(',') + r.end).join(''))
      const pipeline = filters.map((filter) => ({ filter }))
      const raw = await scan({ source: { type: 'file', path: name, format: 'csv' }, pipeline }, data.ctx, { chunk, onError: 'skip' })
      const records = rows.map((r) => ({ type: r.type, user: r.user, tag: r.tag }))
      const whole = await wholeRun(records, pipeline, data.ctx, chunk)
      if (whole === undefined) return
      assert.deepEqual(raw.results, whole.results)
      const failing = new Set(whole.errors.map((e) => e.offset))
      for (const error of raw.errors) assert.ok(failing.has(error.offset), `row ${error.offset} failed only with the raw filter: ${error.message}`)
    }), { numRuns: 300 })
  })

  it('CSV numbers: results are those of the rows decoded whole, for every spelling of a number column and its place in the row', async () => {
    const digits = fc.stringMatching(/^[0-9]{1,20}$/)
    const cellNumber = fc.oneof(
      { weight: 4, arbitrary: fc.tuple(fc.constantFrom('', '-', '+'), digits, fc.option(digits)).map(([sign, int, fraction]) => sign + int + (fraction === null ? '' : '.' + fraction)) },
      { weight: 2, arbitrary: fc.constantFrom('400', '400.0', '0400.000', '-0', '+0.0', '399.99999999999994', '400.00000000000006', '2.5', '1000', '-1', '4e2', '5.', '.5', ' 400 ', '', ' ', 'abc', '1e400', '9'.repeat(301), '1,5', '"5"') },
      { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => String(n)) }
    )
    const quote = (t: string, always: boolean) => always || /[",\r\n]/.test(t) ? `"${t.replaceAll('"', '""')}"` : t
    const row = fc.record({ type: fc.constantFrom('view', 'a,b', 'x"y', 'buy'), n: cellNumber, tag: fc.constantFrom('t', '', 'line\nbreak'), quoted: fc.boolean(), end: fc.constantFrom('\n', '\r\n', '\n\n') })
    const filter = fc.oneof(comparison, fc.tuple(comparison, fc.oneof(comparison, atom), fc.constantFrom('&&', '||')).map(([a, b, op]) => `(${a}) ${op} (${b})`))
    await fc.assert(fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 30 }), fc.constantFrom(['type', 'n', 'tag'], ['n', 'type', 'tag'], ['type', 'tag', 'n']), fc.array(filter, { minLength: 1, maxLength: 2 }), fc.integer({ min: 1, max: 40 }), async (rows, order, filters, chunk) => {
      const name = `numbers-${files++}.csv`
      await data.write(name, order.join(',') + '\n' + rows.map((r) => order.map((c) => c === 'n' ? r.n : quote(r[c as 'type' | 'tag'], r.quoted)).join(',') + r.end).join(''))
      const source = { type: 'file', path: name, format: 'csv', columns: { n: 'number' } }
      const run = async (pipeline: unknown[]) => {
        try {
          return await scan({ source, pipeline }, data.ctx, { chunk, onError: 'skip' })
        } catch (error) {
          if ((error as { code?: string }).code === 'PARASCAN_INVALID_SCAN') return undefined
          throw error
        }
      }
      const raw = await run(filters.map((f) => ({ filter: f })))
      // After a map no filter is a leading one: the rows are decoded whole.
      const whole = await run([{ map: 'record' }, ...filters.map((f) => ({ filter: f }))])
      if (raw === undefined || whole === undefined) return
      assert.deepEqual(raw.results, whole.results)
      const failing = new Set(whole.errors.map((e) => e.offset))
      for (const error of raw.errors) assert.ok(failing.has(error.offset), `row ${error.offset} failed only with the raw filter: ${error.message}`)
    }), { numRuns: 300 })
  })

  it('rules lines out without decoding them, and still fails a field that no line holds', async () => {
    const name = await data.write('ruled-out.ndjson', '{"type":"purchase","n":1}\n{"type":"view",\n{"type":"view","n":2}\n[]\n')
    const kept = await scan({ source: { type: 'file', path: name, format: 'ndjson' }, pipeline: [{ filter: 'record.type == "purchase"' }] }, data.ctx, { onError: 'skip' })
    assert.deepEqual(kept.results, [{ type: 'purchase', n: 1 }])
    assert.deepEqual(kept.errors.map((e) => e.offset), [3], 'a line that does not start with { is decoded')
    const misspelt = await scan({ source: { type: 'file', path: name, format: 'ndjson' }, pipeline: [{ filter: 'record.tpye == "purchase"' }] }, data.ctx, { onError: 'skip' })
    assert.deepEqual(misspelt.results, [])
    assert.equal(misspelt.errors.length, 4)
    const numeric = await scan({ source: { type: 'file', path: name, format: 'ndjson' }, pipeline: [{ filter: 'record.n > 1.0' }] }, data.ctx, { onError: 'skip' })
    assert.deepEqual(numeric.results, [{ type: 'view', n: 2 }])
    assert.deepEqual(numeric.errors.map((e) => e.offset), [1, 3], 'the line with n 1 is ruled out unread; one without a number n, or not an object, still fails')
    const misspeltNumber = await scan({ source: { type: 'file', path: name, format: 'ndjson' }, pipeline: [{ filter: 'record.nn > 1.0' }] }, data.ctx, { onError: 'skip' })
    assert.equal(misspeltNumber.errors.length, 4, 'a field that no line holds fails every record')
  })
})
