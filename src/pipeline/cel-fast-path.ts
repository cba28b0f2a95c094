/** Returned by a fast program when it cannot decide: the expression is then evaluated by cel-js. */
export const UNDECIDED: unique symbol = Symbol('undecided')

type Fast = (record: unknown) => unknown

interface Node {
  op: string
  args: unknown
}

const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER)

function isNode (value: unknown): value is Node {
  return typeof value === 'object' && value !== null && 'op' in value
}

function field (name: string): Fast {
  return (record) => {
    if (typeof record !== 'object' || record === null || Array.isArray(record) || !Object.hasOwn(record, name)) return UNDECIDED
    return (record as Record<string, unknown>)[name]
  }
}

function literal (value: unknown): Fast | undefined {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return () => value
  if (typeof value === 'bigint' && value <= MAX_EXACT && value >= -MAX_EXACT) {
    const exact = Number(value)
    return () => exact
  }
  return undefined
}

/** Both numbers, both strings or both bools; anything else is left to cel-js. */
function comparable (a: unknown, b: unknown): boolean {
  const type = typeof a
  return type === typeof b && (type === 'number' || type === 'string' || type === 'boolean')
}

/** An int (BigInt) with an int or a double: CEL compares them as numbers, as JS does. */
function numeric (a: unknown, b: unknown): boolean {
  const ta = typeof a
  const tb = typeof b
  return (ta === 'bigint' && (tb === 'bigint' || tb === 'number')) || (ta === 'number' && tb === 'bigint')
}

/** An int literal divisor other than 0 and -1, small enough to be exact as a JS number. */
function smallDivisor (divisor: unknown): bigint | undefined {
  if (!isNode(divisor) || divisor.op !== 'value' || typeof divisor.args !== 'bigint') return undefined
  const d = divisor.args
  return d === 0n || d === -1n || d > MAX_EXACT || d < -MAX_EXACT ? undefined : d
}

/** `left % divisor` for an int (BigInt) left operand and a small int literal divisor. */
function remainder (left: Fast, divisor: unknown): Fast | undefined {
  const d = smallDivisor(divisor)
  if (d === undefined) return undefined
  return (record) => {
    const a = left(record)
    return typeof a === 'bigint' ? a % d : UNDECIDED
  }
}

/**
 * The same for an int record given as a JS number (a safe integer): `left` is the record or a
 * remainder of it, so a number there is an int, and JS's `%` (truncating, sign of the dividend) is
 * CEL's. The divisor is a small literal: the result is exact.
 */
function numberRemainder (left: Fast, divisor: unknown): Fast | undefined {
  const exact = smallDivisor(divisor)
  if (exact === undefined) return undefined
  const d = Number(exact)
  return (record) => {
    const a = left(record)
    return typeof a === 'number' ? a % d : UNDECIDED
  }
}

/** An expression that is an int whenever the record is: the record itself or a remainder of it. */
function intOfRecord (node: unknown): boolean {
  return isNode(node) && ((node.op === 'id' && node.args === 'record') || (node.op === '%' && intOfRecord((node.args as unknown[])[0])))
}

function compile (node: unknown, intRecord: boolean): Fast | undefined {
  if (!isNode(node)) return undefined
  const args = node.args as unknown[]
  switch (node.op) {
    case 'value': return literal(node.args)
    case 'id': return node.args === 'record' ? (record) => record : undefined
    case '%': {
      if (intRecord && !intOfRecord(args[0])) return undefined
      const left = compile(args[0], intRecord)
      if (left === undefined) return undefined
      return intRecord ? numberRemainder(left, args[1]) : remainder(left, args[1])
    }
    case '.':
      return isNode(args[0]) && args[0].op === 'id' && args[0].args === 'record' && typeof args[1] === 'string' ? field(args[1]) : undefined
    case '[]':
      return isNode(args[0]) && args[0].op === 'id' && args[0].args === 'record' && isNode(args[1]) && args[1].op === 'value' && typeof args[1].args === 'string'
        ? field(args[1].args)
        : undefined
    case '==':
    case '!=': {
      const left = compile(args[0], intRecord)
      const right = compile(args[1], intRecord)
      if (left === undefined || right === undefined) return undefined
      const equal = node.op === '=='
      return (record) => {
        const a = left(record)
        const b = right(record)
        // loose equality: an int (BigInt) and a double are equal when their values are
        return comparable(a, b) ? (a === b) === equal : numeric(a, b) ? ((a as number) == (b as number)) === equal : UNDECIDED
      }
    }
    case '<':
    case '<=':
    case '>':
    case '>=': {
      const left = compile(args[0], intRecord)
      const right = compile(args[1], intRecord)
      if (left === undefined || right === undefined) return undefined
      const op = node.op
      return (record) => {
        const a = left(record)
        const b = right(record)
        if ((typeof a !== 'number' || typeof b !== 'number') && !numeric(a, b)) return UNDECIDED
        const x = a as number
        const y = b as number
        return op === '<' ? x < y : op === '<=' ? x <= y : op === '>' ? x > y : x >= y
      }
    }
    case '&&':
    case '||': {
      const left = compile(args[0], intRecord)
      const right = compile(args[1], intRecord)
      if (left === undefined || right === undefined) return undefined
      const decisive = node.op === '||'
      return (record) => {
        const a = left(record)
        if (a === decisive) return decisive
        if (typeof a !== 'boolean') return UNDECIDED
        const b = right(record)
        return typeof b === 'boolean' ? b : UNDECIDED
      }
    }
    case '!_': {
      const operand = compile(node.args, intRecord)
      if (operand === undefined) return undefined
      return (record) => {
        const a = operand(record)
        return typeof a === 'boolean' ? !a : UNDECIDED
      }
    }
    default:
      return undefined
  }
}

const BOOLEAN_ROOTS = new Set(['==', '!=', '<', '<=', '>', '>=', '&&', '||', '!_'])

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
      const value = intRecord
        ? e.local(`typeof ${left} === 'number' ? ${left} % ${e.number(Number(d))} : U`)
        : e.local(`typeof ${left} === 'bigint' ? ${left} % ${e.constant(d)} : U`)
      e.lines.push(`if (${value} === U) return U`)
      return value
    }
    case '.':
    case '[]': {
      const name = node.op === '.'
        ? (isNode(args[0]) && args[0].op === 'id' && args[0].args === 'record' && typeof args[1] === 'string' ? args[1] : undefined)
        : (isNode(args[0]) && args[0].op === 'id' && args[0].args === 'record' && isNode(args[1]) && args[1].op === 'value' && typeof args[1].args === 'string' ? args[1].args : undefined)
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
      e.lines.push(`if (${value} === U) return U`)
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
    if (error instanceof EvalError) return compile(ast, intRecord)
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

/** The closures that serve where code cannot be made from strings (for tests). */
export function closureFastPath (ast: unknown, intRecord: boolean): Fast | undefined {
  return isNode(ast) && BOOLEAN_ROOTS.has(ast.op) ? compile(ast, intRecord) : undefined
}
