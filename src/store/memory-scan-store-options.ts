import type { ResultPages } from './result-pages.js'
import type { ScanJournal } from './scan-journal.js'

export interface MemoryScanStoreOptions {
  /**
   * How long finished scans, their results and idempotency keys are kept (ms).
   * @defaultValue 24 h
   */
  retentionMs?: number
  /**
   * Where what the store accepts is written before it answers.
   * @defaultValue nowhere: it all ends with the process
   */
  journal?: ScanJournal
  /**
   * Where result pages are kept.
   * @defaultValue in memory
   */
  pages?: ResultPages
}
