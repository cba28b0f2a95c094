import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { celEnvironment } from '../../src/pipeline/cel-environment.js'
import { checkExpression, compileExpression, compileIntRecordProgram } from '../../src/pipeline/cel-expression.js'
import { execFile } from 'node:child_process'
import { inspect, promisify } from 'node:util'
import { closureFastPath, compileFastPath, compileIntRecordFastPath, UNDECIDED } from '../../src/pipeline/cel-fast-path.js'

type Outcome = { value: unknown } | { error: true }

function outcome (run: () => unknown): Outcome {
  try {
    return { value: run() }
  } catch {
    return { error: true }
  }
}

const atom = fc.constantFrom(
  'record.a', 'record.b', 'record["c"]', 'record.missing',
  '"x"', '"y"', '""', '1.5', '2.0', '0.0', '-1.0', '1', '2', '0', '-3', '9007199254740993', 'true', 'false', 'null',
  'record', '(record % 64)', '(record % 3)', '(record % -2)', '(record % 0)', '(record % -1)', '(record.a % 2)', '(record.b + 1)', '(record.c - 0.5)', '(record.a / 2)', '(record.b * 2.0)', '(1 + 0.5)'
)
const comparison = fc.tuple(atom, fc.constantFrom('==', '!=', '<', '<=', '>', '>='), atom).map(([a, op, b]) => `${a} ${op} ${b}`)
const expression = fc.letrec<{ expr: string }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    comparison,
    atom,
    fc.tuple(tie('expr'), fc.constantFrom('&&', '||'), tie('expr')).map(([a, op, b]) => `(${a}) ${op} (${b})`),
    tie('expr').map((a) => `!(${a})`)
  )
})).expr

const value = fc.oneof(fc.constantFrom('x', 'y', '', 1.5, 2, 0, -0, -1, 1, true, false, null, 2 ** 53), fc.double(), fc.string(), fc.array(fc.integer(), { maxLength: 2 }), fc.constant({ k: 1 }))
const record = fc.oneof(
  fc.record({ a: value, b: value, c: value }, { requiredKeys: [] }),
  value,
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.bigInt({ min: -200n, max: 200n })
)

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

  it('a program made for the expression decides as the closures that serve where code cannot be made from strings (property)', () => {
    const safe = fc.oneof(fc.integer({ min: -200, max: 200 }), fc.maxSafeInteger())
    fc.assert(fc.property(expression, fc.array(record, { minLength: 1, maxLength: 8 }), fc.array(safe, { minLength: 1, maxLength: 4 }), (source, records, ints) => {
      fc.pre(checkExpression(source) === null)
      const ast = celEnvironment.parse(source).ast
      for (const [intRecord, inputs] of [[false, records], [true, ints]] as const) {
        const made = intRecord ? compileIntRecordFastPath(ast) : compileFastPath(ast)
        const closures = closureFastPath(ast, intRecord)
        assert.equal(made === undefined, closures === undefined, source)
        if (made === undefined || closures === undefined) continue
        for (const r of inputs) assert.deepEqual(outcome(() => made(r)), outcome(() => closures(r)), `${source} on ${inspect(r)}`)
      }
    }), { numRuns: 2000 })
  })

  it('with code from strings forbidden, the fast path still decides', async () => {
    const module = new URL('../../src/pipeline/cel-fast-path.js', import.meta.url).href
    const environment = new URL('../../src/pipeline/cel-environment.js', import.meta.url).href
    const code = `const { compileFastPath } = await import(${JSON.stringify(module)})
const { celEnvironment } = await import(${JSON.stringify(environment)})
const fast = compileFastPath(celEnvironment.parse('record.type == "purchase" && record.amount > 100').ast)
console.log(fast({ type: 'purchase', amount: 150.5 }), fast({ type: 'view', amount: 150.5 }))`
    const { stdout } = await promisify(execFile)(process.execPath, ['--disallow-code-generation-from-strings', '--input-type=module', '-e', code], { timeout: 30_000 })
    assert.equal(stdout.trim(), 'true false')
  })
})
