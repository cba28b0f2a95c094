import { RE2JS } from 're2js'

/** The name under which `matches` is registered: calls of `matches` are renamed to it after parsing. */
export const RE2_MATCHES = 'matches_re2'

const MAX_CACHED = 256
/** Longer patterns (from record data, say) are compiled each time rather than kept. */
const MAX_CACHED_LENGTH = 4096
const compiled = new Map<string, RE2JS>()

/** Compiles `pattern` with RE2 syntax; throws a message that names the pattern when it is not valid RE2. */
export function compileRe2 (pattern: string): RE2JS {
  let regex = compiled.get(pattern)
  if (regex !== undefined) return regex
  try {
    regex = RE2JS.compile(pattern)
  } catch (error) {
    throw new Error(`invalid regular expression ${JSON.stringify(pattern.slice(0, 200))} (RE2 syntax): ${(error as Error).message}`)
  }
  if (pattern.length > MAX_CACHED_LENGTH) return regex
  if (compiled.size >= MAX_CACHED) compiled.delete(compiled.keys().next().value as string)
  compiled.set(pattern, regex)
  return regex
}

/** CEL `matches`: true when the RE2 pattern matches some part of `text`, in time linear in its length. */
export function re2Matches (text: string, pattern: string): boolean {
  return compileRe2(pattern).matcher(text).find()
}

interface CallNode {
  op: string
  args: unknown
}

function isNode (value: unknown): value is CallNode {
  return typeof value === 'object' && value !== null && 'op' in value && 'args' in value
}

/** Renames a call `x.matches(p)` to the RE2 function; returns p when it is a string literal, to be checked at once. */
export function useRe2Matches (node: CallNode): string | undefined {
  const args = node.args
  if (node.op !== 'rcall' || !Array.isArray(args) || args[0] !== 'matches') return undefined
  args[0] = RE2_MATCHES
  const pattern = (args[2] as unknown[])[0]
  return isNode(pattern) && pattern.op === 'value' && typeof pattern.args === 'string' ? pattern.args : undefined
}
