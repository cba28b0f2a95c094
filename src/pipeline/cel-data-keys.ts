/**
 * Keys that cel-js cannot keep in a plain object: it drops them from map literals and tells a
 * map's type by its `constructor` property. Values with such keys are handed to CEL as Maps,
 * which it supports as they are, and celToJson turns back into objects with the keys intact.
 */
const SPECIAL = new Set(['__proto__', 'constructor', 'prototype'])

function hasSpecialKey (value: object): boolean {
  return Object.hasOwn(value, '__proto__') || Object.hasOwn(value, 'constructor') || Object.hasOwn(value, 'prototype')
}

/** Whether `value` holds, at any depth, an object with a key of SPECIAL. A loop, not recursion: records from files may nest without limit. */
export function holdsSpecialKeys (value: unknown): boolean {
  const pending = [value]
  while (pending.length > 0) {
    const item = pending.pop()
    if (typeof item !== 'object' || item === null) continue
    if (Array.isArray(item)) {
      for (const element of item) pending.push(element)
      continue
    }
    if (item instanceof Map || Object.getPrototypeOf(item) !== Object.prototype) continue
    if (hasSpecialKey(item)) return true
    for (const element of Object.values(item)) pending.push(element)
  }
  return false
}

/** `value` with every plain object that has a key of SPECIAL turned into a Map (the others are kept). */
export function withSpecialKeysAsMaps (value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) return value.map(withSpecialKeysAsMaps)
  if (value instanceof Map || Object.getPrototypeOf(value) !== Object.prototype) return value
  const entries = Object.keys(value).map((key): [string, unknown] => [key, withSpecialKeysAsMaps((value as Record<string, unknown>)[key])])
  if (hasSpecialKey(value)) return new Map(entries)
  const out: Record<string, unknown> = {}
  for (const [key, item] of entries) out[key] = item
  return out
}

interface MapNode {
  op: string
  args: Array<[unknown, unknown]>
  meta: { evaluate: (ev: unknown, ast: unknown, ctx: unknown) => unknown }
}

interface Evaluator {
  run(ast: unknown, ctx: unknown): unknown
}

/** Makes a map literal evaluate to a Map when one of its keys is SPECIAL, as cel-js would otherwise drop it. */
export function keepSpecialKeys (node: MapNode): void {
  node.meta.evaluate = (ev, ast, ctx) => {
    const entries = (ast as MapNode).args.map(([k, v]): [unknown, unknown] => [(ev as Evaluator).run(k, ctx), (ev as Evaluator).run(v, ctx)])
    if (entries.some(([k]) => typeof k === 'string' && SPECIAL.has(k))) return new Map(entries)
    const out: Record<string, unknown> = {}
    for (const [k, v] of entries) out[String(k)] = v
    return out
  }
}
