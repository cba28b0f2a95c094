import * as serviceErrors from './errors.js'
import * as engineErrors from './parallel/errors.js'

export interface CatalogueEntry {
  code: string
  /** The HTTP status of its problem+json answer. */
  statusCode: number
}

function instanceOf (constructor: unknown): { code: string, statusCode?: number } {
  return new (constructor as new () => { code: string, statusCode?: number })()
}

/** The code of a catalogue's error constructor. */
export function codeOf (constructor: unknown): string {
  return instanceOf(constructor).code
}

/** One entry per error constructor that a catalogue module exports, sorted by code. */
export function catalogueEntries (catalogue: Readonly<Record<string, unknown>>): CatalogueEntry[] {
  const entries = new Map<string, CatalogueEntry>()
  for (const value of Object.values(catalogue)) {
    if (typeof value !== 'function' || !(value.prototype instanceof Error)) continue
    const error = instanceOf(value)
    entries.set(error.code, { code: error.code, statusCode: error.statusCode ?? 500 })
  }
  return [...entries.values()].sort((a, b) => a.code.localeCompare(b.code))
}

/** Every code the service sends: in problem+json answers and in a scan's `error.code`. */
export const SERVICE_ERRORS: readonly CatalogueEntry[] = [...catalogueEntries(serviceErrors), ...catalogueEntries(engineErrors)]

const SERVICE_CODES: ReadonlySet<string> = new Set(SERVICE_ERRORS.map((entry) => entry.code))

export function isServiceCode (code: unknown): code is string {
  return typeof code === 'string' && SERVICE_CODES.has(code)
}
