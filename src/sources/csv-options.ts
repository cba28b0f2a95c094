import type { Options } from 'csv-parse'

/** csv-parse options of every CSV read: RFC 4180, CRLF or LF, rows as arrays of strings. */
export const csvParseOptions: Options = {
  relax_column_count: true,
  skip_empty_lines: true,
  record_delimiter: ['\r\n', '\n'],
  bom: true
}
