import { SourceFileError, withFieldErrors, type FieldError } from '../errors.js'
import type { z } from 'zod'
import type { fileSourceSchema } from '../../schemas/scan-request.js'
import { readCsvHeader } from './csv-header.js'
import { checkFileFormat, fileFormat, type FileFormat } from './file-format.js'
import { reasonOf, resolveDataFile, type DataFile } from './data-path.js'
import type { FileSourceParams } from './file-source-params.js'
import { recordIndexCache } from './record-index-cache.js'
import { MAX_RANGE_RECORDS } from './range-source.js'

export type FileSourceSpec = z.infer<typeof fileSourceSchema>

async function header (spec: FileSourceSpec, file: DataFile): Promise<string[]> {
  try {
    return await readCsvHeader(file.realpath)
  } catch (error) {
    const reason = reasonOf(error, file.realpath, spec.path)
    throw withFieldErrors(new SourceFileError(JSON.stringify(spec.path), reason), [{ path: 'source.path', message: reason }])
  }
}

function checkColumns (spec: FileSourceSpec, names: string[]): FieldError[] {
  if (spec.columns === undefined) return []
  if (fileFormat(spec) !== 'csv') return [{ path: 'source.columns', message: 'only CSV sources have typed columns' }]
  const known = new Set(names)
  return Object.keys(spec.columns).filter((name) => !known.has(name))
    .map((name) => ({ path: `source.columns.${name}`, message: `${spec.path} has no column ${JSON.stringify(name)}` }))
}

/** Submit-time checks: the path is confined and readable, typed columns exist. */
export async function checkFileSource (spec: FileSourceSpec, dataDir: string): Promise<FieldError[]> {
  const format = checkFileFormat(spec)
  if (format.length > 0) return format
  const file = await resolveDataFile(dataDir, spec.path)
  return checkColumns(spec, fileFormat(spec) === 'csv' ? await header(spec, file) : [])
}

/** Resolves the file and its record index (built once per file version, then cached). */
export async function planFileSource (spec: FileSourceSpec, dataDir: string): Promise<{ total: number, params: FileSourceParams }> {
  const format = fileFormat(spec) as FileFormat
  const file = await resolveDataFile(dataDir, spec.path)
  const names = format === 'csv' ? await header(spec, file) : undefined
  let index
  try {
    index = await recordIndexCache.get(file, format)
  } catch (error) {
    const reason = reasonOf(error, file.realpath, spec.path)
    throw withFieldErrors(new SourceFileError(JSON.stringify(spec.path), reason), [{ path: 'source.path', message: reason }])
  }
  if (index.count > MAX_RANGE_RECORDS) {
    const reason = `it holds ${index.count} records; a scan reads at most ${MAX_RANGE_RECORDS}`
    throw withFieldErrors(new SourceFileError(JSON.stringify(spec.path), reason), [{ path: 'source.path', message: reason }])
  }
  return {
    total: index.count,
    params: {
      type: 'file',
      format,
      path: spec.path,
      realpath: file.realpath,
      size: file.size,
      mtimeMs: file.mtimeMs,
      offsets: index.offsets,
      count: index.count,
      header: names,
      columns: spec.columns
    }
  }
}
