import { extname } from 'node:path'
import type { FieldError } from '../errors.js'

export type FileFormat = 'ndjson' | 'csv'

const BY_EXTENSION: Record<string, FileFormat> = { '.ndjson': 'ndjson', '.jsonl': 'ndjson', '.ldjson': 'ndjson', '.csv': 'csv' }

/** The `format` of a file source: the one given, else the one its extension names. */
export function fileFormat (spec: { path: string, format?: FileFormat }): FileFormat | undefined {
  return spec.format ?? BY_EXTENSION[extname(spec.path).toLowerCase()]
}

export function checkFileFormat (spec: { path: string, format?: FileFormat }): FieldError[] {
  if (fileFormat(spec) !== undefined) return []
  return [{ path: 'source.format', message: `give "format": "ndjson" or "csv"; it cannot be told from the extension of ${JSON.stringify(spec.path)} (.ndjson, .jsonl, .ldjson or .csv)` }]
}
