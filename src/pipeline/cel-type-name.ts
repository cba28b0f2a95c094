/** The CEL name of the type of a value, for error messages. */
export function celTypeName (value: unknown): string {
  switch (typeof value) {
    case 'bigint': return 'int'
    case 'number': return 'double'
    case 'boolean': return 'bool'
    case 'string': return 'string'
    case 'object':
      if (value === null) return 'null'
      if (Array.isArray(value)) return 'list'
      if (value instanceof Uint8Array) return 'bytes'
      if (value instanceof Date) return 'timestamp'
      if (value instanceof Map) return 'map'
      return Object.getPrototypeOf(value) === Object.prototype ? 'map' : (value.constructor?.name ?? 'object')
    default: return typeof value
  }
}
