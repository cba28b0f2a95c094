import type { ErrorPolicy, OrderedWindow, ParallelConfigOptions, RecordErrorSample, SchedulerName, WorkerHistograms, WorkerMetrics } from './types.js'
import { RecordFailedError } from './errors.js'

/** Everything one thread needs to take part in a scan. */
export interface ScanSpec {
  scanId: number
  moduleUrl: string
  params: unknown
  /** Instead of params, on the way to a worker thread: their JSON text (see toWire). */
  paramsJson?: string
  buffer: SharedArrayBuffer
  workers: number
  workerId: number
  total: number
  scheduler: SchedulerName
  config: Required<ParallelConfigOptions>
  ordered: boolean
  /** With `ordered`: the reorder window the threads keep to (see ScanOptions). */
  window: OrderedWindow
  onError: ErrorPolicy
  maxErrorSamples: number
  /** How long the thread waits for the task module to import before it fails the scan. */
  moduleLoadTimeoutMs: number
  /** The thread replaces one that died: it sorts the ranges its slot left before it starts. */
  takeOver: boolean
}

export interface ScanMessage { type: 'scan', spec: ScanSpec }

/**
 * Whether the threads of a scan count the JSON of the unordered pages they post against
 * window.bytes, and the calling thread takes each page off once it is handed over. Not in order
 * (the reorder window does), and not for the sequential scheduler, which runs in the calling thread.
 */
export function boundsUnorderedPages (ordered: boolean, scheduler: SchedulerName): boolean {
  return !ordered && scheduler !== 'sequential'
}

/**
 * Whether the threads of a scan wait to post while the JSON they posted and the calling thread
 * has not received yet reaches TRANSIT_BYTES: not for the sequential scheduler, which runs in
 * the calling thread and posts nothing.
 */
export function boundsTransit (scheduler: SchedulerName): boolean {
  return scheduler !== 'sequential'
}

/**
 * JSON posted and not yet received that a thread waits on before it posts more. The calling
 * thread takes in all the messages waiting for it in one go, timers and I/O only after the
 * last: what is in transit is what it may be kept from them for.
 */
export const TRANSIT_BYTES = 4 * 1024 * 1024

/** The JSON of results a commit carries, as counted in transit. */
export function resultBytes (message: CommitMessage): number {
  if (message.json !== undefined) return message.json.length
  const parts = message.parts
  if (parts === undefined) return 0
  let bytes = 0
  for (let p = 0; p < parts.length; p++) bytes += parts[p].length
  return bytes
}

/**
 * A flush: the records of `ranges` (flat [offset, end, items] triples) are
 * done. Unordered results come as one JSON array text; ordered ones as one
 * JSON array text per range.
 */
export interface CommitMessage {
  type: 'commit'
  scanId: number
  workerId: number
  ranges: number[]
  records: number
  items: number
  json?: string
  parts?: string[]
  /** JSON of the partial aggregate state of these records. */
  partial?: string
  skipped: number
  errors: RecordErrorSample[]
}

export type FailureKind = 'fetch' | 'short' | 'record' | 'json' | 'module'

export interface FailureData {
  kind: FailureKind
  offset: number
  count: number
  detail: string
  cause?: unknown
}

export interface FailedMessage { type: 'failed', scanId: number, workerId: number, failure: FailureData }

export interface DoneMessage {
  type: 'done'
  scanId: number
  workerId: number
  metrics: WorkerMetrics
  histograms: WorkerHistograms
  feederDepthMax: number
}

export type WorkerMessage = CommitMessage | FailedMessage | DoneMessage

/** A failure raised inside a thread, carried to the main thread as data. */
export class ScanFailure extends Error {
  readonly data: FailureData
  constructor (data: FailureData) {
    super(data.detail)
    this.data = data
  }
}

const RECORD_FAILED = new RecordFailedError(0, '').code

/** The code a record's error is sampled with: its own `code` when that is a short string, else PARASCAN_RECORD_FAILED. */
export function recordErrorCode (error: unknown): string {
  const code = (error as { code?: unknown } | null | undefined)?.code
  return typeof code === 'string' && code.length > 0 && code.length <= 64 ? code : RECORD_FAILED
}

export function describeError (error: unknown): string {
  if (error instanceof Error) return error.message
  try {
    return String(error)
  } catch {
    return 'unprintable error'
  }
}
