import { z } from 'zod'
import { ownKeyRecord } from './own-key-record.js'

const int = z.number().int().min(-(2 ** 53) + 1).max(2 ** 53 - 1)

export const rangeSourceSchema = z.object({
  type: z.literal('range').describe('Source kind.'),
  start: int.describe('First integer of the range (inclusive).'),
  end: int.describe('End of the range (exclusive).')
}).describe('The integers start..end-1; each record is a JSON number.').meta({ id: 'RangeSource' })

export const inlineSourceSchema = z.object({
  type: z.literal('inline').describe('Source kind.'),
  records: z.array(z.unknown()).describe('The records themselves, any JSON values.')
}).describe('Records sent in the request body.').meta({ id: 'InlineSource' })

export const columnTypeSchema = z.enum(['string', 'number', 'integer', 'boolean', 'json']).meta({ id: 'ColumnType' })

export const fileSourceSchema = z.object({
  type: z.literal('file').describe('Source kind.'),
  path: z.string().min(1).describe('Path relative to PARASCAN_DATA_DIR.'),
  format: z.enum(['ndjson', 'csv']).optional()
    .describe('ndjson: one JSON value per line; csv: RFC 4180 with a header row. Default: from the extension (.ndjson, .jsonl, .ldjson: ndjson; .csv: csv).'),
  columns: ownKeyRecord(z.string(), columnTypeSchema).optional()
    .describe('CSV only: types of named columns (other columns stay strings).')
}).describe('A file under PARASCAN_DATA_DIR, scanned by record offset.').meta({ id: 'FileSource' })

export const sourceSchema = z.discriminatedUnion('type', [rangeSourceSchema, inlineSourceSchema, fileSourceSchema]).meta({ id: 'Source' })

export const filterStepSchema = z.object({
  filter: z.string().min(1).describe('CEL expression over `record`; the record is kept when it is true.')
}).strict().meta({ id: 'FilterStep' })

export const mapStepSchema = z.object({
  map: z.string().min(1).describe('CEL expression over `record`; its value replaces the record.')
}).strict().meta({ id: 'MapStep' })

/** A JSON object kept as sent: zod's object schema leaves out a `__proto__` key, which is data here. */
const jsonObjectSchema = z.unknown().refine((value) => value !== null && typeof value === 'object' && !Array.isArray(value), 'expected an object')
  .meta({ type: 'object', additionalProperties: {} })

export const processorStepSchema = z.object({
  processor: z.string().min(1).describe('Name of a built-in or plug-in processor.'),
  params: jsonObjectSchema.optional().describe('Parameters, checked by the processor\'s own schema; every key is data, `__proto__` and `constructor` included.')
}).strict().meta({ id: 'ProcessorStep' })

export const pipelineStepSchema = z.union([filterStepSchema, mapStepSchema, processorStepSchema]).meta({ id: 'PipelineStep' })

export const aggregateOpSchema = z.enum(['count', 'sum', 'min', 'max', 'avg']).meta({ id: 'AggregateOp' })

export const aggregateSchema = z.object({
  group_by: z.string().min(1).optional().describe('CEL expression whose value groups the records.'),
  metrics: ownKeyRecord(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.object({
    op: aggregateOpSchema.describe('count, sum, min, max or avg.'),
    expr: z.string().min(1).optional().describe('CEL expression to aggregate; not needed for count.')
  })).describe('Named aggregates; each result row has one field per name.')
}).describe('Aggregate the pipeline\'s output: one row per group, sorted by group.').meta({ id: 'Aggregate' })

export const parallelOverridesSchema = z.object({
  max_workers: z.number().int().min(1).optional().describe('Worker threads for this scan; at most the instance\'s.'),
  scheduler: z.enum(['work_stealing', 'thread_pool', 'sequential']).optional().describe('work_stealing (default), thread_pool (shared cursor) or sequential.'),
  initial_chunk_size: z.number().int().min(1).optional().describe('First chunk size of every worker (records).'),
  min_chunk_size: z.number().int().min(1).optional().describe('Smallest chunk (records).'),
  max_chunk_size: z.number().int().min(1).optional().describe('Largest chunk (records).'),
  target_ms_low: z.number().positive().optional().describe('Chunks faster than this (ms) grow.'),
  target_ms_high: z.number().positive().optional().describe('Chunks slower than this (ms) shrink.'),
  chunk_ema_alpha: z.number().gt(0).max(1).optional().describe('EMA weight of the newest chunk time, in (0, 1].'),
  max_inflight_chunks_per_worker: z.number().int().min(1).optional().describe('Ranges a worker keeps split off for thieves.')
}).strict().describe('Per-scan ParallelConfig overrides, within the instance\'s limits.').meta({ id: 'ParallelOverrides' })

export const scanRequestSchema = z.object({
  source: sourceSchema,
  pipeline: z.array(pipelineStepSchema).default([]).describe('Steps applied to each record, in order.'),
  aggregate: aggregateSchema.optional(),
  ordered: z.boolean().default(false).describe('Results in source order.'),
  max_results: z.number().int().min(0).optional().describe('Cap on stored results; the count goes on past it.'),
  on_error: z.enum(['fail', 'skip']).default('fail').describe('fail: the scan fails at the first bad record; skip: bad records are counted and sampled.'),
  parallel: parallelOverridesSchema.optional(),
  partitions: z.number().int().min(1).optional()
    .describe('Split the scan into this many record ranges, run as separate jobs by every instance on the Redis (at most PARASCAN_MAX_PARTITIONS and the record count; 1 runs it as one job). Default: one partition per PARASCAN_PARTITION_RECORDS records.'),
  timeout_seconds: z.number().positive().max(2 ** 31).optional()
    .describe('Run-time limit of this scan, at most the service\'s PARASCAN_SCAN_TIMEOUT; past it the scan fails with PARASCAN_SCAN_TIMEOUT.')
}).strict().describe('A scan: where the records come from and what to do with each.').meta({
  id: 'ScanRequest',
  examples: [{
    source: { type: 'range', start: 0, end: 100000 },
    pipeline: [{ filter: 'record % 2 == 0' }, { map: 'record * 2' }],
    ordered: false,
    max_results: 100000,
    on_error: 'fail',
    parallel: { max_workers: 2, scheduler: 'work_stealing' }
  }]
})

export type ScanRequest = z.infer<typeof scanRequestSchema>
export type SourceSpec = z.infer<typeof sourceSchema>
export type PipelineStep = z.infer<typeof pipelineStepSchema>
export type AggregateSpec = z.infer<typeof aggregateSchema>
