import { CsvFileReader } from './csv-file-reader.js'
import { InlineSourceReader } from './inline-source.js'
import { NdjsonFileReader } from './ndjson-file-reader.js'
import { RangeSourceReader } from './range-source.js'
import type { SourceParams } from './source-params.js'
import type { SourceReader } from './source-reader.js'

/** Opens the reader of a resolved source in the current thread. */
export function openSourceReader (params: SourceParams): SourceReader {
  switch (params.type) {
    case 'range': return new RangeSourceReader(params)
    case 'inline': return new InlineSourceReader(params)
    case 'file': return params.format === 'csv' ? new CsvFileReader(params) : new NdjsonFileReader(params)
  }
}
