/** `key` as it follows a path: `[i]` for an array index, `.name` for an identifier, else `["…"]`. */
function step (key: string | number): string {
  if (typeof key === 'number') return `[${key}]`
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`
}

interface Frame {
  value: unknown[] | Record<string, unknown>
  /** An object's own keys; null for an array, walked by index. */
  keys: string[] | null
  next: number
}

const keyAt = (frame: Frame, i: number): string | number => frame.keys === null ? i : frame.keys[i]

/**
 * The path (below `base`) of the first number in `value` that is not finite, or undefined. A JSON
 * number too large for a double, such as `1e400`, parses as Infinity; stored again as JSON it would
 * become null. Walks depth first without recursion, holding only the frames of the current branch
 * and writing a path only for the number it finds.
 */
export function nonFiniteNumberPath (value: unknown, base: string): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : base
  const stack: Frame[] = []
  const enter = (child: unknown): void => {
    if (child === null || typeof child !== 'object') return
    stack.push({ value: child as Frame['value'], keys: Array.isArray(child) ? null : Object.keys(child), next: 0 })
  }
  enter(value)
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]
    if (frame.next === (frame.keys ?? frame.value as unknown[]).length) {
      stack.pop()
      continue
    }
    const key = keyAt(frame, frame.next++)
    const child = (frame.value as Record<string | number, unknown>)[key]
    if (typeof child === 'number') {
      if (!Number.isFinite(child)) return base + stack.map((f) => step(keyAt(f, f.next - 1))).join('')
    } else {
      enter(child)
    }
  }
  return undefined
}
