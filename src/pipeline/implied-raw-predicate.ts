import type { CompareOp, RawPredicate } from '../sources/raw-predicate.js'
import { celEnvironment } from './cel-environment.js'

interface Node {
  op: string
  args: unknown
}

function isNode (value: unknown): value is Node {
  return typeof value === 'object' && value !== null && 'op' in value && 'args' in value
}

/** The field name of `record.name` or `record["name"]`. */
function recordField (node: unknown): string | undefined {
  if (!isNode(node) || (node.op !== '.' && node.op !== '[]')) return undefined
  const [target, key] = node.args as unknown[]
  if (!isNode(target) || target.op !== 'id' || target.args !== 'record') return undefined
  if (node.op === '.') return typeof key === 'string' ? key : undefined
  return isNode(key) && key.op === 'value' && typeof key.args === 'string' ? key.args : undefined
}

function stringLiteral (node: unknown): string | undefined {
  return isNode(node) && node.op === 'value' && typeof node.args === 'string' ? node.args : undefined
}

function equals (field: string | undefined, value: string | undefined): RawPredicate | undefined {
  return field === undefined || value === undefined ? undefined : { kind: 'equals', field, value }
}

/** A double or int literal (an int only where a double holds it exactly), negated or not, as a number. */
function numberLiteral (node: unknown): number | undefined {
  if (!isNode(node)) return undefined
  if (node.op === '-_') {
    const inner = numberLiteral(node.args)
    return inner === undefined ? undefined : -inner
  }
  if (node.op !== 'value') return undefined
  if (typeof node.args === 'number') return node.args
  if (typeof node.args === 'bigint' && node.args >= BigInt(Number.MIN_SAFE_INTEGER) && node.args <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(node.args)
  return undefined
}

/** The operator with its sides swapped: `1 < x` is `x > 1`. */
const SWAPPED: Record<CompareOp, CompareOp> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=', '==': '==', '!=': '!=' }

/** `record.x <op> number` or `number <op> record.x`. */
function compare (op: CompareOp, args: unknown[]): RawPredicate | undefined {
  const field = recordField(args[0])
  const value = numberLiteral(args[1])
  if (field !== undefined && value !== undefined) return { kind: 'compare', field, op, value }
  const swappedField = recordField(args[1])
  const swappedValue = numberLiteral(args[0])
  if (swappedField !== undefined && swappedValue !== undefined) return { kind: 'compare', field: swappedField, op: SWAPPED[op], value: swappedValue }
  return undefined
}

/**
 * What `node` being true implies, or undefined when it implies nothing that bytes can show.
 * `a && b` implies both parts' predicates (or the one that exists), `a || b` one of them (only
 * when both exist); `==` of a field and a string, `field in [strings]` and
 * `field.contains(string)` are atoms, and so is a comparison of a field and a number literal;
 * everything else (negation, calls, comparisons of two fields) implies nothing.
 */
function implied (node: unknown): RawPredicate | undefined {
  if (!isNode(node)) return undefined
  const args = node.args as unknown[]
  switch (node.op) {
    case '&&': {
      const parts = [implied(args[0]), implied(args[1])].filter((part) => part !== undefined)
      return parts.length <= 1 ? parts[0] : { kind: 'all', parts }
    }
    case '||': {
      const left = implied(args[0])
      const right = implied(args[1])
      return left === undefined || right === undefined ? undefined : { kind: 'any', parts: [left, right] }
    }
    case '==':
      return equals(recordField(args[0]), stringLiteral(args[1])) ?? equals(recordField(args[1]), stringLiteral(args[0])) ?? compare('==', args)
    case '!=':
    case '<':
    case '<=':
    case '>':
    case '>=':
      return compare(node.op, args)
    case 'in': {
      const field = recordField(args[0])
      const list = args[1]
      if (field === undefined || !isNode(list) || list.op !== 'list') return undefined
      const values = (list.args as unknown[]).map(stringLiteral)
      if (values.length === 0 || values.some((value) => value === undefined)) return undefined
      return values.length === 1 ? equals(field, values[0]) : { kind: 'any', parts: values.map((value) => ({ kind: 'equals', field, value: value as string })) }
    }
    case 'rcall': {
      const [name, target, callArgs] = args as [unknown, unknown, unknown[]]
      const field = recordField(target)
      const value = Array.isArray(callArgs) && callArgs.length === 1 ? stringLiteral(callArgs[0]) : undefined
      return name === 'contains' && field !== undefined && value !== undefined ? { kind: 'contains', field, value } : undefined
    }
    default:
      return undefined
  }
}

/** What records kept by all of the filter expressions `sources` satisfy, in terms of raw bytes; undefined: nothing. */
export function impliedRawPredicate (sources: string[]): RawPredicate | undefined {
  const parts = sources.map((source) => implied(celEnvironment.parse(source).ast)).filter((part) => part !== undefined)
  return parts.length <= 1 ? parts[0] : { kind: 'all', parts }
}
