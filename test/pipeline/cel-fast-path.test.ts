import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { expression, outcome, record } from '../helpers/cel-cases.js'
import { celEnvironment } from '../../src/pipeline/cel-environment.js'
import { checkExpression, compileExpression, compileIntRecordProgram } from '../../src/pipeline/cel-expression.js'
import { inspect } from 'node:util'
import { UNDECIDED } from '../../src/pipeline/cel-fast-path.js'
import { compileFastPath, compileIntRecordFastPath } from '../../src/pipeline/cel-fast-program.js'

describe('CEL fast path', () => {
  it('gives what cel-js gives, value or error, for every expression it takes (property)', () => {
    fc.assert(fc.property(expression, fc.array(record, { minLength: 1, maxLength: 8 }), (source, records) => {
      fc.pre(checkExpression(source) === null)
      const reference = celEnvironment.parse(source)
      const compiled = compileExpression(source, 'test')
      for (const r of records) {
        const expected = outcome(() => reference({ record: r }))
        const got = outcome(() => compiled(r))
        if ('error' in expected) assert.ok('error' in got, `${source} on ${inspect(r)}: cel-js fails, the fast path gave ${inspect(got)}`)
        else assert.deepEqual(got, expected, `${source} on ${inspect(r)}`)
      }
    }), { numRuns: 3000 })
  })

  it('on an int record given as a JS number, gives what cel-js gives for the BigInt, or leaves it to cel-js (property)', () => {
    const safe = fc.oneof(fc.integer({ min: -200, max: 200 }), fc.maxSafeInteger(), fc.constantFrom(Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 0, 64, -64))
    fc.assert(fc.property(expression, fc.array(safe, { minLength: 1, maxLength: 8 }), (source, records) => {
      fc.pre(checkExpression(source) === null)
      const reference = celEnvironment.parse(source)
      const program = compileIntRecordProgram(source)
      if (program === undefined) return
      for (const r of records) {
        const got = program(r)
        if (got === UNDECIDED) continue
        const expected = outcome(() => reference({ record: BigInt(r) }))
        assert.deepEqual({ value: got }, expected, `${source} on ${r}`)
      }
    }), { numRuns: 3000 })
  })

  it('takes % only of the record or a remainder of it when the record is an int given as a number', () => {
    const ast = (source: string) => celEnvironment.parse(source).ast
    const even = compileIntRecordFastPath(ast('record % 64 == 0 && record > 10'))
    assert.ok(even !== undefined)
    assert.equal(even(128), true)
    assert.equal(even(-128), false)
    assert.equal(compileIntRecordFastPath(ast('record % 3 % 2 == 1'))?.(-7), false)
    assert.equal(compileIntRecordFastPath(ast('record % 3 % 2 != 1'))?.(-7), true)
    assert.equal(compileIntRecordFastPath(ast('7.5 % 2 == 1.5')), undefined)
    assert.equal(compileIntRecordFastPath(ast('record.a % 2 == 0')), undefined)
    assert.equal(compileIntRecordFastPath(ast('record % 9007199254740993 == 0')), undefined)
    assert.equal(compileIntRecordFastPath(ast('record == "x"'))?.(1), UNDECIDED)
  })

  it('decides the plain cases itself and leaves the rest to cel-js', () => {
    const fast = compileFastPath(celEnvironment.parse('record.type == "purchase" && record.amount > 100').ast)
    assert.ok(fast !== undefined)
    assert.equal(fast({ type: 'purchase', amount: 150.5 }), true)
    assert.equal(fast({ type: 'view', amount: 150.5 }), false)
    assert.equal(fast({ type: 'purchase', amount: '150' }), UNDECIDED)
    assert.equal(fast({ amount: 1 }), UNDECIDED)
    assert.equal(fast(7n), UNDECIDED)
    const even = compileFastPath(celEnvironment.parse('record % 2 == 0').ast)
    assert.ok(even !== undefined)
    assert.equal(even(4n), true)
    assert.equal(even(-3n), false)
    assert.equal(even(4), UNDECIDED)
    assert.equal(compileFastPath(celEnvironment.parse('record % record == 0').ast), undefined)
    assert.equal(compileFastPath(celEnvironment.parse('record.a').ast), undefined)
    assert.equal(compileFastPath(celEnvironment.parse('record.a.b == 1').ast), undefined)
  })
})
