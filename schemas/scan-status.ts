import { z } from 'zod'

export const scanStatusNameSchema = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled'])
  .describe('queued → running → succeeded | failed | cancelled (a queued scan can also be cancelled).').meta({ id: 'ScanStatusName' })

const timestamp = z.string().describe('ISO 8601 timestamp (UTC).')

export const progressSchema = z.object({
  total: z.number().int().describe('Records in the source.'),
  processed: z.number().int().describe('Records processed so far.'),
  matched: z.number().int().describe('Results produced so far (records not dropped by the pipeline).'),
  skipped: z.number().int().describe('Records that raised an error and were skipped (on_error=skip).'),
  fraction: z.number().min(0).max(1).describe('processed / total (1 for an empty source).'),
  records_per_second: z.number().describe('Throughput since the scan started.'),
  eta_seconds: z.number().nullable().describe('Estimated seconds to completion; null before the rate is known.')
}).describe('Live progress, updated at least every 500 ms while the scan runs.').meta({ id: 'Progress' })

export const scanResultInfoSchema = z.object({
  count: z.number().int().describe('Results stored (at most max_results).'),
  truncated: z.boolean().describe('True when max_results cut off results.'),
  partial: z.boolean().describe('True when the scan failed or was cancelled: the results are those stored before it stopped, and stay readable.')
}).meta({ id: 'ScanResultInfo' })

export const scanErrorSchema = z.object({
  code: z.string().describe('Stable error code from the catalogue (docs/errors.md), e.g. PARASCAN_RECORD_FAILED.'),
  message: z.string().describe('What went wrong.'),
  offset: z.number().int().optional().describe('Offset of the record in the source, when a record caused the error.')
}).describe('Why the scan failed or was cancelled.').meta({ id: 'ScanError' })

export const recordErrorSampleSchema = z.object({
  offset: z.number().int().describe('Offset of the skipped record in the source.'),
  message: z.string().describe('The error of that record.'),
  code: z.string().describe('Stable error code from the catalogue (docs/errors.md): the record\'s own, e.g. PARASCAN_VALUE_TOO_LARGE or PARASCAN_INVALID_ENCODING, else PARASCAN_RECORD_FAILED.')
}).meta({ id: 'RecordErrorSample' })

export const workerMetricsSchema = z.object({
  instance: z.string().optional().describe('Instance that ran this worker thread (partitioned scans: one entry per instance and worker).'),
  worker_id: z.number().int().describe('Pool slot, 0..max_workers-1.'),
  chunks_processed: z.number().int().describe('Chunks (fetch + process calls) this worker ran.'),
  records_processed: z.number().int().describe('Records this worker processed.'),
  avg_ms: z.number().describe('Mean chunk service time.'),
  p50_ms: z.number().describe('Median chunk service time.'),
  p95_ms: z.number().describe('95th percentile of chunk service time.'),
  p99_ms: z.number().describe('99th percentile of chunk service time.'),
  steals_attempted: z.number().int().describe('Times this worker tried to take work from another.'),
  steals_successful: z.number().int().describe('Steals that got work.'),
  max_local_queue_depth: z.number().describe('Most ranges waiting in this worker\'s deque.'),
  avg_local_queue_depth: z.number().describe('Mean ranges waiting in this worker\'s deque.'),
  lock_contention_events: z.number().int().describe('Lost compare-and-swap races on a deque.'),
  time_waiting_on_lock_ms: z.number().describe('Time spent retrying after lost races.')
}).meta({ id: 'WorkerMetrics' })

export const scanMetricsSchema = z.object({
  workers: z.array(workerMetricsSchema).describe('One entry per worker thread (final_worker).'),
  global: z.object({
    global_feeder_depth_max: z.number().describe('Most ranges waiting to be handed out at once.')
  }).describe('Pool-wide metrics (final_global).')
}).describe('Engine metrics of the finished scan.').meta({ id: 'ScanMetrics' })

export const partitionsSummarySchema = z.object({
  total: z.number().int().describe('Partitions the scan was split into.'),
  queued: z.number().int().describe('Partitions not started (or handed back and waiting again).'),
  running: z.number().int().describe('Partitions running now.'),
  succeeded: z.number().int().describe('Partitions committed: their results are readable.'),
  rerun: z.number().int().describe('Partition runs that started again after an earlier run of the same partition was lost (instance gone) or handed back (shutdown).')
}).describe('Only for a scan split into partitions: where its partitions are.')

export const scanLinksSchema = z.object({
  self: z.string().describe('URL of the status document.'),
  results: z.string().describe('URL of the first results page.')
}).meta({ id: 'ScanLinks' })

export const scanStatusSchema = z.object({
  id: z.string().describe('Scan id (also the queue job id).'),
  status: scanStatusNameSchema,
  created_at: timestamp,
  started_at: timestamp.nullable().describe('When the (last) attempt started; null while queued.'),
  finished_at: timestamp.nullable().describe('When the scan ended; null until then.'),
  expires_at: timestamp.nullable().describe('When the finished scan and its results are removed (PARASCAN_RETENTION).'),
  progress: progressSchema,
  result: scanResultInfoSchema.describe('Stored results so far.'),
  error: scanErrorSchema.nullable().describe('Why the scan failed or was cancelled; null otherwise.'),
  errors: z.array(recordErrorSampleSchema).describe('With on_error=skip: the first errors, with record offsets.'),
  metrics: scanMetricsSchema.nullable().describe('Per-worker and global metrics once the scan has finished.'),
  partitions: partitionsSummarySchema.optional(),
  links: scanLinksSchema.describe('Where to read this scan.')
}).describe('Status document of a scan.').meta({
  id: 'ScanStatus',
  examples: [{
    id: '0b7e6c0e-4a4e-4d1e-9b7e-5c7b1b2b6f10',
    status: 'running',
    created_at: '2026-01-01T12:00:00.000Z',
    started_at: '2026-01-01T12:00:00.004Z',
    finished_at: null,
    expires_at: null,
    progress: { total: 100000, processed: 40000, matched: 20000, skipped: 0, fraction: 0.4, records_per_second: 1200000, eta_seconds: 0.05 },
    result: { count: 20000, truncated: false, partial: false },
    error: null,
    errors: [],
    metrics: null,
    links: { self: '/v1/scans/0b7e6c0e-4a4e-4d1e-9b7e-5c7b1b2b6f10', results: '/v1/scans/0b7e6c0e-4a4e-4d1e-9b7e-5c7b1b2b6f10/results' }
  }]
})

export const scanAcceptedSchema = z.object({
  id: z.string().describe('Scan id.'),
  status: scanStatusNameSchema.describe('queued for a new scan; the current status of the first scan for a repeated Idempotency-Key.'),
  created_at: timestamp,
  links: scanLinksSchema.describe('Where to read this scan.')
}).describe('The scan was queued.').meta({
  id: 'ScanAccepted',
  examples: [{
    id: '0b7e6c0e-4a4e-4d1e-9b7e-5c7b1b2b6f10',
    status: 'queued',
    created_at: '2026-01-01T12:00:00.000Z',
    links: { self: '/v1/scans/0b7e6c0e-4a4e-4d1e-9b7e-5c7b1b2b6f10', results: '/v1/scans/0b7e6c0e-4a4e-4d1e-9b7e-5c7b1b2b6f10/results' }
  }]
})

export const scanSummarySchema = scanStatusSchema.omit({ metrics: true })
  .describe('A scan in a list: its status document without the per-worker metrics (GET /v1/scans/{id} has them).')
  .meta({ id: 'ScanSummary' })

export const scanListSchema = z.object({
  items: z.array(scanSummarySchema).describe('Scans, newest first.'),
  next_cursor: z.string().optional().describe('Pass as `cursor` for the next page; absent on the last page.')
}).meta({ id: 'ScanList' })

export const resultsPageSchema = z.object({
  items: z.array(z.unknown()).describe('Results as plain JSON values, in source order for ordered scans.'),
  next_cursor: z.string().optional().describe('Opaque; absent only on the last page of a finished scan.'),
  complete: z.boolean().describe('True on the last page of a finished scan.'),
  partial: z.boolean().describe('True when the scan failed or was cancelled: its results are those stored before it stopped.')
}).meta({
  id: 'ResultsPage',
  examples: [{ items: [0, 4, 8], next_cursor: 'eyJhIjoiMSIsInAiOjAsIm8iOjN9', complete: false, partial: false }]
})

export type ScanStatusName = z.infer<typeof scanStatusNameSchema>
export type Progress = z.infer<typeof progressSchema>
export type ScanErrorInfo = z.infer<typeof scanErrorSchema>
export type ScanMetrics = z.infer<typeof scanMetricsSchema>
export type PartitionsSummary = z.infer<typeof partitionsSummarySchema>
export type ScanStatusDocument = z.infer<typeof scanStatusSchema>
export type ScanSummaryDocument = z.infer<typeof scanSummarySchema>
export type ResultsPageDocument = z.infer<typeof resultsPageSchema>
