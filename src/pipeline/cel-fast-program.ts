import { BOOLEAN_ROOTS, closureFastPath, comparable, intOfRecord, isNode, MAX_EXACT, numeric, recordFieldName, smallDivisor, UNDECIDED, type Fast } from './cel-fast-path.js'

/**
 * The statements of one generated program: each node's value goes to a local of its own, and a
 * node that cannot decide returns UNDECIDED at once (an operand that cannot decide leaves every
 * node above it undecided too, unless `&&` or `||` never looks at it). No text of the
 * expression goes into the code: strings and field names are read from `k`, and numbers are
 * written by String() from finite JS numbers.
 */
class Emitter {
  readonly lines: string[] = []
  readonly constants: unknown[] = []
  #locals = 0

  local (expression: string, kind = 'const'): string {
    const name = `v${this.#locals++}`
    this.lines.push(`${kind} ${name} = ${expression}`)
    return name
  }

  constant (value: unknown): string {
    this.constants.push(value)
    return `k[${this.constants.length - 1}]`
  }

  number (value: number): string {
    if (!Number.isFinite(value)) return this.constant(value)
    return Object.is(value, -0) ? '(-0)' : `(${String(value)})`
  }
}

function emitLiteral (value: unknown, e: Emitter): string | undefined {
  if (typeof value === 'boolean') return String(value)
  if (typeof value === 'number') return e.number(value)
  if (typeof value === 'string') return e.constant(value)
  if (typeof value === 'bigint' && value <= MAX_EXACT && value >= -MAX_EXACT) return e.number(Number(value))
  return undefined
}

function emit (node: unknown, intRecord: boolean, e: Emitter): string | undefined {
  if (!isNode(node)) return undefined
  const args = node.args as unknown[]
  switch (node.op) {
    case 'value': return emitLiteral(node.args, e)
    case 'id': return node.args === 'record' ? 'record' : undefined
    case '%': {
      if (intRecord && !intOfRecord(args[0])) return undefined
      const d = smallDivisor(args[1])
      if (d === undefined) return undefined
      const left = emit(args[0], intRecord, e)
      if (left === undefined) return undefined
      e.lines.push(`if (typeof ${left} !== '${intRecord ? 'number' : 'bigint'}') return U`)
      return e.local(`${left} % ${intRecord ? e.number(Number(d)) : e.constant(d)}`)
    }
    case '.':
    case '[]': {
      const name = recordFieldName(node)
      if (name === undefined) return undefined
      const key = e.constant(name)
      e.lines.push(`if (typeof record !== 'object' || record === null || Array.isArray(record) || !Object.hasOwn(record, ${key})) return U`)
      return e.local(`record[${key}]`)
    }
    case '==':
    case '!=': {
      const left = emit(args[0], intRecord, e)
      const right = left === undefined ? undefined : emit(args[1], intRecord, e)
      if (left === undefined || right === undefined) return undefined
      const equal = node.op === '=='
      // loose equality: an int (BigInt) and a double are equal when their values are
      const value = e.local(`comparable(${left}, ${right}) ? (${left} === ${right}) === ${String(equal)} : numeric(${left}, ${right}) ? (${left} == ${right}) === ${String(equal)} : U`)
      e.lines.push(`if (typeof ${value} === 'symbol') return U`)
      return value
    }
    case '<':
    case '<=':
    case '>':
    case '>=': {
      const left = emit(args[0], intRecord, e)
      const right = left === undefined ? undefined : emit(args[1], intRecord, e)
      if (left === undefined || right === undefined) return undefined
      e.lines.push(`if ((typeof ${left} !== 'number' || typeof ${right} !== 'number') && !numeric(${left}, ${right})) return U`)
      return e.local(`${left} ${node.op} ${right}`)
    }
    case '&&':
    case '||': {
      const decisive = String(node.op === '||')
      const left = emit(args[0], intRecord, e)
      if (left === undefined) return undefined
      const value = e.local(decisive, 'let')
      e.lines.push(`if (${left} !== ${decisive}) {`, `if (typeof ${left} !== 'boolean') return U`)
      const right = emit(args[1], intRecord, e)
      if (right === undefined) return undefined
      e.lines.push(`if (typeof ${right} !== 'boolean') return U`, `${value} = ${right}`, '}')
      return value
    }
    case '!_': {
      const operand = emit(node.args, intRecord, e)
      if (operand === undefined) return undefined
      e.lines.push(`if (typeof ${operand} !== 'boolean') return U`)
      return e.local(`!${operand}`)
    }
    default:
      return undefined
  }
}

/*
 * A program of its own for every expression: the closures of compile() are shared by all
 * expressions, and once a thread has run a few of them their calls to one another no longer
 * inline (a scan ran 35-45 % slower after others had). Where the process forbids code from
 * strings, the closures serve.
 */
function generate (ast: unknown, intRecord: boolean): Fast | undefined {
  if (!isNode(ast) || !BOOLEAN_ROOTS.has(ast.op)) return undefined
  const e = new Emitter()
  const root = emit(ast, intRecord, e)
  if (root === undefined) return undefined
  try {
    const make = new Function('U', 'comparable', 'numeric', 'k', `'use strict'\nreturn function fastPath (record) {\n${e.lines.join('\n')}\nreturn ${root}\n}`) as (...args: unknown[]) => Fast
    return make(UNDECIDED, comparable, numeric, e.constants)
  } catch (error) {
    if (error instanceof EvalError) return closureFastPath(ast, intRecord)
    throw error
  }
}

/**
 * A plain JS function for a boolean expression made only of the record, its top-level fields,
 * string, double, bool and small int literals, `% <int literal>` of an int, comparisons, `&&`,
 * `||` and `!`. It returns a bool only when the operands are of the plain kinds whose CEL meaning
 * is JS's own (numbers with numbers, ints with ints or doubles, strings with strings, bools with
 * bools) and UNDECIDED otherwise, so cel-js still decides every other case, errors included.
 * Undefined when the expression is outside that subset.
 */
export function compileFastPath (ast: unknown): Fast | undefined {
  return generate(ast, false)
}

/**
 * The same subset for an int record given as a JS number (a safe integer, as a range source
 * reads them), so that no BigInt is made per record: `record` and `record % <literal>` are ints
 * there, every other number is what it is in the subset above. It returns a bool or UNDECIDED;
 * on UNDECIDED the caller evaluates the expression on the record as a BigInt.
 */
export function compileIntRecordFastPath (ast: unknown): Fast | undefined {
  return generate(ast, true)
}
