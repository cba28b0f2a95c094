/** Returned by a fast program when it cannot decide: the expression is then evaluated by cel-js. */
export const UNDECIDED: unique symbol = Symbol('undecided')

/** Whether a fast program could not decide (CEL values are never symbols: see isRejected). */
export function isUndecided (value: unknown): value is typeof UNDECIDED {
  return typeof value === 'symbol'
}

export type Fast = (record: unknown) => unknown

interface Node {
  op: string
  args: unknown
}

export const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER)

export function isNode (value: unknown): value is Node {
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
export function comparable (a: unknown, b: unknown): boolean {
  const type = typeof a
  return type === typeof b && (type === 'number' || type === 'string' || type === 'boolean')
}

/** An int (BigInt) with an int or a double: CEL compares them as numbers, as JS does. */
export function numeric (a: unknown, b: unknown): boolean {
  const ta = typeof a
  const tb = typeof b
  return (ta === 'bigint' && (tb === 'bigint' || tb === 'number')) || (ta === 'number' && tb === 'bigint')
}

/** An int literal divisor other than 0 and -1, small enough to be exact as a JS number. */
export function smallDivisor (divisor: unknown): bigint | undefined {
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

/** The name in `record.name` or `record["name"]`; undefined for any other node. */
export function recordFieldName (node: Node): string | undefined {
  const [object, key] = node.args as unknown[]
  if (!isNode(object) || object.op !== 'id' || object.args !== 'record') return undefined
  if (node.op === '.') return typeof key === 'string' ? key : undefined
  return node.op === '[]' && isNode(key) && key.op === 'value' && typeof key.args === 'string' ? key.args : undefined
}

/** An expression that is an int whenever the record is: the record itself or a remainder of it. */
export function intOfRecord (node: unknown): boolean {
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
    case '[]': {
      const name = recordFieldName(node)
      return name === undefined ? undefined : field(name)
    }
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

export const BOOLEAN_ROOTS = new Set(['==', '!=', '<', '<=', '>', '>=', '&&', '||', '!_'])

/**
 * The subset's closures, for an int record given as a JS number when `intRecord`: what serves
 * where code cannot be made from strings (see cel-fast-program.ts).
 */
export function closureFastPath (ast: unknown, intRecord: boolean): Fast | undefined {
  return isNode(ast) && BOOLEAN_ROOTS.has(ast.op) ? compile(ast, intRecord) : undefined
}
