import type { ParseError, TypeError } from '@marcbachmann/cel-js'
import { celEnvironment } from './cel-environment.js'
import { compileFastPath, UNDECIDED } from './cel-fast-path.js'

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

export function describeCelError (source: string, error: CelErrorLike): string {
  const summary = error.summary ?? error.message.split('\n')[0]
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
  return result.valid ? null : describeCelError(source, result.error as CelErrorLike)
}

/**
 * Compiles `source` once into a function of the record (simple boolean expressions also into a
 * plain JS function that cel-js backs up, see cel-fast-path.ts). `label` (e.g. `pipeline[0].filter`)
 * starts the message of every error that it throws.
 */
export function compileExpression (source: string, label: string): CelProgram {
  const problem = checkExpression(source)
  if (problem !== null) throw new Error(`${label}: ${problem}`)
  const evaluate = celEnvironment.parse(source)
  const slow: CelProgram = (record) => {
    try {
      return evaluate({ record })
    } catch (error) {
      throw new Error(`${label}: ${describeCelError(source, error as CelErrorLike)}`)
    }
  }
  const fast = compileFastPath(evaluate.ast)
  if (fast === undefined) return slow
  return (record) => {
    const result = fast(record)
    return result === UNDECIDED ? slow(record) : result
  }
}
