import { z } from 'zod'

/** What a processor's `schema` must offer: zod's `safeParse` (zod 3 and 4 both fit). */
export interface ParamsSchema<P> {
  safeParse(input: unknown): { success: true, data: P } | { success: false, error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>, message: string }> } }
}

/** A plug-in may export its schema as a function of the service's zod, so that it needs no zod of its own. */
export type ParamsSchemaFactory<P> = (zod: typeof z) => ParamsSchema<P>

/**
 * A named step that turns one JSON record into a JSON result. Plug-in modules in PARASCAN_PROCESSORS_DIR
 * export these members; they are loaded once per worker thread.
 */
export interface Processor<P = unknown> {
  /** Unique name, used as `processor` in a pipeline step: letters, digits, `_` and `-`, at most 64. */
  name: string
  /** One line on what it does, listed by GET /v1/processors. */
  description?: string
  /** Checks the step's `params` when the scan is submitted; the parsed value is what `process` gets. */
  schema: ParamsSchema<P>
  /** JSON Schema of `params` for GET /v1/processors; derived from a zod 4 `schema` when absent. */
  jsonSchema?: Record<string, unknown>
  /** Returns the result for one record; null or undefined drops it; a throw is an error of that record. */
  process(record: unknown, params: P, offset: number): unknown
}

const NAME = /^[A-Za-z][\w-]{0,63}$/

export function isProcessor (value: unknown): value is Processor {
  return typeof value === 'object' && value !== null && processorProblem(value as Record<string, unknown>) === undefined
}

/** Why a module's exports are not a processor, or undefined when they are one (a schema factory counts). */
export function processorProblem (exported: Record<string, unknown>): string | undefined {
  const { name, schema, process, description, jsonSchema } = exported
  if (typeof name !== 'string') return 'does not export name (a string)'
  if (!NAME.test(name)) return `exports name ${JSON.stringify(name.slice(0, 80))}, which is not 1 to 64 letters, digits, _ or - starting with a letter`
  if (typeof process !== 'function') return 'does not export process (a function)'
  if (typeof schema !== 'function' && (typeof schema !== 'object' || schema === null || typeof (schema as { safeParse?: unknown }).safeParse !== 'function')) {
    return 'does not export schema (an object with safeParse, e.g. a zod schema, or a function that gets zod and returns one)'
  }
  if (description !== undefined && typeof description !== 'string') return 'exports a description that is not a string'
  if (jsonSchema !== undefined && (typeof jsonSchema !== 'object' || jsonSchema === null || Array.isArray(jsonSchema))) return 'exports a jsonSchema that is not an object'
  return undefined
}

/** The processor of a plug-in module's exports (a `default` export object counts too), or why there is none. */
export function processorOf (module: Record<string, unknown>): Processor | string {
  const exported = typeof module.name !== 'string' && typeof module.default === 'object' && module.default !== null
    ? module.default as Record<string, unknown>
    : module
  const problem = processorProblem(exported)
  if (problem !== undefined) return problem
  let schema = exported.schema
  if (typeof schema === 'function') {
    try {
      schema = (schema as ParamsSchemaFactory<unknown>)(z)
    } catch (error) {
      return `schema(z) threw: ${(error as Error).message}`
    }
    if (typeof schema !== 'object' || schema === null || typeof (schema as { safeParse?: unknown }).safeParse !== 'function') return 'schema(z) did not return a schema with safeParse'
  }
  return { ...exported, schema } as unknown as Processor
}

/** JSON Schema of a processor's params: its own `jsonSchema`, else derived from a zod 4 schema, else null. */
export function paramsJsonSchema (processor: Processor): Record<string, unknown> | null {
  if (processor.jsonSchema !== undefined) return processor.jsonSchema
  if (typeof processor.schema !== 'object' || processor.schema === null || !('_zod' in processor.schema)) return null
  try {
    return z.toJSONSchema(processor.schema as unknown as z.ZodType, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>
  } catch {
    return null
  }
}
