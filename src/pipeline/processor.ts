/** What a processor's `schema` must offer: zod's `safeParse` (zod 3 and 4 both fit). */
export interface ParamsSchema<P> {
  safeParse(input: unknown): { success: true, data: P } | { success: false, error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>, message: string }> } }
}

/**
 * A named step that turns one JSON record into a JSON result. Plug-in modules in PROCESSORS_DIR
 * export these three members; they are loaded once per worker thread.
 */
export interface Processor<P = unknown> {
  /** Unique name, used as `processor` in a pipeline step. */
  name: string
  /** Checks the step's `params` when the scan is submitted; the parsed value is what `process` gets. */
  schema: ParamsSchema<P>
  /** Returns the result for one record; null or undefined drops it; a throw is an error of that record. */
  process(record: unknown, params: P, offset: number): unknown
}

export function isProcessor (value: unknown): value is Processor {
  const candidate = value as Partial<Processor> | null
  return typeof candidate === 'object' && candidate !== null &&
    typeof candidate.name === 'string' && candidate.name.length > 0 &&
    typeof candidate.process === 'function' &&
    typeof candidate.schema === 'object' && candidate.schema !== null && typeof candidate.schema.safeParse === 'function'
}
