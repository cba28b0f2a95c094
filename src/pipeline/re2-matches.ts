import { RE2JS } from 're2js'
import { BoundedCache } from './bounded-cache.js'

/** The name under which `matches` is registered: calls of `matches` are renamed to it after parsing. */
export const RE2_MATCHES = 'matches_re2'

/** At most 256 patterns are kept; longer ones (from record data, say) are compiled each time. */
const compiled = new BoundedCache<RE2JS>(256, 4096)

/** Compiles `pattern` with RE2 syntax; throws a message that names the pattern when it is not valid RE2. */
export function compileRe2 (pattern: string): RE2JS {
  return compiled.getOrMake(pattern, () => {
    try {
      return RE2JS.compile(pattern)
    } catch (error) {
      throw new Error(`invalid regular expression ${JSON.stringify(pattern.slice(0, 200))} (RE2 syntax): ${(error as Error).message}`)
    }
  })
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
