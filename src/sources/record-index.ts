import { CsvRecordStarts } from './csv-record-starts.js'
import { scanRecords, type IndexOptions, type RecordStarts } from './index-scan.js'
import { NdjsonRecordStarts } from './ndjson-record-starts.js'

export { UnterminatedQuoteError } from './csv-record-starts.js'
export { INDEX_READ_BYTES, type IndexOptions, type RecordStarts } from './index-scan.js'

/** One streaming pass over an NDJSON file: where each line that holds more than spaces, tabs and \r starts. */
export function indexNdjson (file: string, options: IndexOptions = {}): Promise<RecordStarts> {
  return scanRecords(file, options, new NdjsonRecordStarts())
}

/**
 * One streaming pass over a CSV file: where each record starts, honouring quoted fields that
 * hold line breaks (a quote opens a field only at the start of a field, as in RFC 4180; a
 * doubled quote inside one is a quote). Empty lines are skipped. The header is record 0.
 */
export function indexCsv (file: string, options: IndexOptions = {}): Promise<RecordStarts> {
  return scanRecords(file, options, new CsvRecordStarts())
}
