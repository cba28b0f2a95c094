import type { ParseError, TypeError } from '@marcbachmann/cel-js'
import { BoundedCache } from './bounded-cache.js'
import { celEnvironment } from './cel-environment.js'
import { isUndecided } from './cel-fast-path.js'
import { compileFastPath, compileIntRecordFastPath } from './cel-fast-program.js'
import { compileRe2, RE2_MATCHES, useRe2Matches } from './re2-matches.js'
import { holdsSpecialKeys, keepSpecialKeys, withSpecialKeysAsMaps } from './cel-data-keys.js'

export type CelProgram = (record: unknown) => unknown

interface CelErrorLike {
  message: string
  summary?: string
  range?: { start: number, end: number }
}

/** Where `index` is in `source`, as "line L, column C" (both from 1), or "column C" for one-line sources. */
export function describePosition (source: string, index: number): string {
  const before = source.slice(0, index)
  const line = before.split('\n').length
  const column = index - (before.lastIndexOf('\n') + 1) + 1
  return source.includes('\n') ? `line ${line}, column ${column}` : `column ${column}`
}

interface AstNode {
  op: string
  args: unknown
}

function isAstNode (value: unknown): value is AstNode {
  return typeof value === 'object' && value !== null && 'op' in value && 'args' in value
}

/**
 * Adapts a parsed expression to parascan: `matches` runs on RE2, map literals keep keys such as
 * `constructor`. Returns the literal patterns of `matches`, to be checked at once.
 */
function prepare (node: unknown, patterns: string[] = []): string[] {
  if (Array.isArray(node)) {
    for (const child of node) prepare(child, patterns)
    return patterns
  }
  if (!isAstNode(node)) return patterns
  const pattern = useRe2Matches(node)
  if (pattern !== undefined) patterns.push(pattern)
  if (node.op === 'map' && Array.isArray(node.args) && node.args.length > 0) keepSpecialKeys(node as unknown as Parameters<typeof keepSpecialKeys>[0])
  prepare(node.args, patterns)
  return patterns
}

export function describeCelError (source: string, error: CelErrorLike): string {
  const summary = (error.summary ?? error.message.split('\n')[0]).replaceAll(RE2_MATCHES, 'matches')
  return error.range === undefined ? summary : `${summary} (at ${describePosition(source, error.range.start)})`
}

/** A message that says what is wrong with `source` and where, or null when it compiles. */
export function checkExpression (source: string): string | null {
  let result: { valid: boolean, error?: TypeError | ParseError }
  try {
    result = celEnvironment.check(source)
  } catch (error) {
    return describeCelError(source, error as CelErrorLike)
  }
  if (!result.valid) return describeCelError(source, result.error as CelErrorLike)
  try {
    for (const pattern of prepare(celEnvironment.parse(source).ast)) compileRe2(pattern)
  } catch (error) {
    return (error as Error).message
  }
  return null
}

/**
 * The programs compiled in this thread, by label and source (at most 64; an AST has at most 2000
 * nodes, so they hold a few MiB at worst). A scan that runs again (or another
 * scan with the same steps) gets the very function it had, so the call sites that run it per
 * record see one function and V8 keeps them monomorphic and inlined, as in a thread that compiled
 * it once; a fresh closure per scan made those call sites slower by about a third on cheap filters.
 */
const programs = new BoundedCache<CelProgram>(64, 4096 + 64)

/**
 * Compiles `source` once into a function of the record (simple boolean expressions also into a
 * plain JS function that cel-js backs up, see cel-fast-path.ts). `label` (e.g. `pipeline[0].filter`)
 * starts the message of every error that it throws. Programs hold no state between records, so
 * one compiled earlier in this thread for the same label and source is returned.
 */
export function compileExpression (source: string, label: string): CelProgram {
  return programs.getOrMake(`${label}\n${source}`, () => compileProgram(source, label))
}

function compileProgram (source: string, label: string): CelProgram {
  const problem = checkExpression(source)
  if (problem !== null) throw new Error(`${label}: ${problem}`)
  const evaluate = celEnvironment.parse(source)
  prepare(evaluate.ast)
  const slow: CelProgram = (record) => {
    try {
      return evaluate({ record })
    } catch (error) {
      // cel-js tells a map by its constructor property (`Unsupported type`, or a TypeError when it is null):
      // a record with a key of that name is handed over as a Map.
      if (holdsSpecialKeys(record)) {
        let mapped: unknown
        try {
          mapped = withSpecialKeysAsMaps(record)
        } catch {
          throw new Error(`${label}: ${describeCelError(source, error as CelErrorLike)}`, { cause: error })
        }
        return slow(mapped)
      }
      throw new Error(`${label}: ${describeCelError(source, error as CelErrorLike)}`)
    }
  }
  const fast = compileFastPath(evaluate.ast)
  if (fast === undefined) return slow
  return (record) => {
    const result = fast(record)
    return isUndecided(result) ? slow(record) : result
  }
}

const intRecordPrograms = new BoundedCache<CelProgram | null>(64, 4096)

/**
 * For a valid `source`: the fast program of cel-fast-path.ts for an int record given as a JS
 * number, or undefined when the expression is outside its subset. It returns a bool or
 * UNDECIDED and never throws. Kept per thread as compileExpression keeps its programs.
 */
export function compileIntRecordProgram (source: string): CelProgram | undefined {
  return intRecordPrograms.getOrMake(source, () => compileIntRecordFastPath(celEnvironment.parse(source).ast) ?? null) ?? undefined
}
