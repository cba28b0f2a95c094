import type { z } from 'zod'
import type { columnTypeSchema } from '../../schemas/scan-request.js'

export type ColumnType = z.infer<typeof columnTypeSchema>

export interface FileSourceParams {
  type: 'file'
  format: 'ndjson' | 'csv'
  /** The path as the request gave it, relative to PARASCAN_DATA_DIR: the name used in messages. */
  path: string
  /** Absolute real path of the file. */
  realpath: string
  /** Size and modification time the index was built for; a file that differs fails the scan. */
  size: number
  mtimeMs: number
  /** count + 1 byte offsets (Float64): record i is bytes [offsets[i], offsets[i + 1]). */
  offsets: SharedArrayBuffer
  count: number
  /** CSV: the header's column names. */
  header?: string[]
  /** CSV: types of named columns. */
  columns?: Record<string, ColumnType>
}
