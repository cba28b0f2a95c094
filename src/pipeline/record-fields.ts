import { celEnvironment } from './cel-environment.js'

interface Node {
  op: string
  args: unknown
}

function isNode (value: unknown): value is Node {
  return typeof value === 'object' && value !== null && 'op' in value && 'args' in value
}

function isRecord (node: unknown): boolean {
  return isNode(node) && node.op === 'id' && node.args === 'record'
}

/** Adds the fields of `record` that `node` reads to `fields`; false when it uses `record` otherwise. */
function collect (node: unknown, fields: Set<string>): boolean {
  if (Array.isArray(node)) return node.every((child) => collect(child, fields))
  if (!isNode(node)) return true
  if (node.op === 'id') return node.args !== 'record'
  const args = node.args as unknown[]
  if (node.op === '.' && isRecord(args[0]) && typeof args[1] === 'string') {
    fields.add(args[1])
    return true
  }
  if (node.op === '[]' && isRecord(args[0]) && isNode(args[1]) && args[1].op === 'value' && typeof args[1].args === 'string') {
    fields.add(args[1].args)
    return true
  }
  return collect(node.args, fields)
}

/**
 * The top-level fields of `record` that the expressions read, when they read it only as
 * `record.name` or `record["name"]`; null when some expression uses the record in any other way.
 */
export function recordFields (expressions: string[]): Set<string> | null {
  const fields = new Set<string>()
  for (const source of expressions) {
    if (!collect(celEnvironment.parse(source).ast, fields)) return null
  }
  return fields.has('__proto__') ? null : fields
}
