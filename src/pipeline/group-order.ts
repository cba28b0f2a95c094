function rank (value: unknown): number {
  if (value === null) return 0
  switch (typeof value) {
    case 'boolean': return 1
    case 'number': return 2
    case 'string': return 3
    default: return Array.isArray(value) ? 4 : 5
  }
}

/**
 * Order of groups: null, then false < true, then numbers ascending, then strings by UTF-16 code
 * units, then lists, then maps (lists and maps by their JSON text).
 */
export function compareGroups (a: unknown, b: unknown): number {
  const ra = rank(a)
  const rb = rank(b)
  if (ra !== rb) return ra - rb
  switch (ra) {
    case 0: return 0
    case 1:
    case 2: return Number(a) - Number(b)
    case 3: return a === b ? 0 : (a as string) < (b as string) ? -1 : 1
    default: {
      const ja = JSON.stringify(a)
      const jb = JSON.stringify(b)
      return ja === jb ? 0 : ja < jb ? -1 : 1
    }
  }
}
