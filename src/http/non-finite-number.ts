/** `key` as it follows a path: `.name` when it is an identifier, else `["…"]`. */
function memberPath (key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`
}

/**
 * The path (below `base`) of the first number in `value` that is not finite, or undefined. A JSON
 * number too large for a double, such as `1e400`, parses as Infinity; stored again as JSON it would
 * become null. Walks without recursion.
 */
export function nonFiniteNumberPath (value: unknown, base: string): string | undefined {
  const stack: Array<[unknown, string]> = [[value, base]]
  while (stack.length > 0) {
    const [current, path] = stack.pop()!
    if (typeof current === 'number') {
      if (!Number.isFinite(current)) return path
      continue
    }
    if (current === null || typeof current !== 'object') continue
    const children: Array<[unknown, string]> = Array.isArray(current)
      ? current.map((child, i) => [child, `${path}[${i}]`])
      : Object.entries(current).map(([key, child]) => [child, `${path}${memberPath(key)}`])
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i])
  }
  return undefined
}
