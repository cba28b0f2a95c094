import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { describe, it } from 'node:test'
import { inspect, promisify } from 'node:util'
import fc from 'fast-check'
import { celEnvironment } from '../../src/pipeline/cel-environment.js'
import { checkExpression } from '../../src/pipeline/cel-expression.js'
import { closureFastPath } from '../../src/pipeline/cel-fast-path.js'
import { compileFastPath, compileIntRecordFastPath } from '../../src/pipeline/cel-fast-program.js'
import { expression, outcome, record } from '../helpers/cel-cases.js'

describe('CEL fast path programs', () => {
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
    const module = new URL('../../src/pipeline/cel-fast-program.js', import.meta.url).href
    const environment = new URL('../../src/pipeline/cel-environment.js', import.meta.url).href
    const code = `const { compileFastPath } = await import(${JSON.stringify(module)})
const { celEnvironment } = await import(${JSON.stringify(environment)})
const fast = compileFastPath(celEnvironment.parse('record.type == "purchase" && record.amount > 100').ast)
console.log(fast({ type: 'purchase', amount: 150.5 }), fast({ type: 'view', amount: 150.5 }))`
    const { stdout } = await promisify(execFile)(process.execPath, ['--disallow-code-generation-from-strings', '--input-type=module', '-e', code], { timeout: 30_000 })
    assert.equal(stdout.trim(), 'true false')
  })

  it('no text of the expression becomes code: quotes, backticks and line breaks in strings and field names are data', () => {
    const source = String.raw`record["x\u0027); globalThis.pwnedKey = 1; (\u0027"] == "\u0027\u0060\u0022); globalThis.pwnedValue = 1; //\n\u2028" && record["a"] > 0.5`
    const fast = compileFastPath(celEnvironment.parse(source).ast)
    assert.ok(fast !== undefined)
    const matching = { "x'); globalThis.pwnedKey = 1; ('": "'`\"); globalThis.pwnedValue = 1; //\n\u2028", a: 5 }
    assert.equal(fast(matching), true)
    assert.equal(fast({ ...matching, a: 0 }), false)
    assert.equal((globalThis as Record<string, unknown>).pwnedKey, undefined)
    assert.equal((globalThis as Record<string, unknown>).pwnedValue, undefined)
    assert.doesNotMatch(fast.toString(), /pwned/)
  })
})
