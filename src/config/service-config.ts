import { z } from 'zod'
import { parseDuration } from './duration.js'
import { InvalidConfigError } from '../errors.js'
import { parseApiKeys, type ApiKeyEntry } from './api-keys.js'
import { parseAdminCredentials, type AdminCredentials } from './admin-credentials.js'

const duration = (fallback: string) => z.string().default(fallback).transform((text, ctx) => {
  const ms = parseDuration(text)
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration (e.g. 500ms, 30s, 15m, 24h, 7d)` })
    return z.NEVER
  }
  return ms
})

const integer = (fallback: number, min: number, max: number) =>
  z.string().default(String(fallback)).transform((text, ctx) => {
    const value = Number(text)
    if (!/^\s*\d+\s*$/.test(text) || value < min || value > max) {
      ctx.addIssue({ code: 'custom', message: `"${text}" must be an integer from ${min} to ${max}` })
      return z.NEVER
    }
    return value
  })

const optionalText = z.string().trim().min(1).optional().catch(undefined)

export const serviceEnvSchema = z.object({
  PORT: integer(3000, 0, 65535),
  HOST: z.string().min(1).default('0.0.0.0'),
  REDIS_URL: z.string().optional().transform((text, ctx) => {
    if (text === undefined || text.trim() === '') return undefined
    try {
      const url = new URL(text)
      if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new Error('protocol')
    } catch {
      ctx.addIssue({ code: 'custom', message: `"${text}" is not a redis:// or rediss:// URL` })
      return z.NEVER
    }
    return text
  }),
  DATA_DIR: z.string().min(1).default('./data'),
  PROCESSORS_DIR: optionalText,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  BODY_LIMIT: integer(32 * 1024 * 1024, 1024, 2 ** 31 - 1),
  RETENTION: duration('24h'),
  PARASCAN_KEY_PREFIX: z.string().regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits, _ . : - only').default('parascan'),
  PARASCAN_CONCURRENCY: integer(1, 0, 64),
  PARASCAN_LOCK_DURATION: duration('30s'),
  PARASCAN_PROGRESS_INTERVAL: duration('250ms'),
  PARASCAN_PARTITION_RECORDS: integer(1_000_000, 1, 2 ** 53 - 1),
  PARASCAN_MAX_PARTITIONS: integer(1000, 1, 100_000),
  PARASCAN_PARTITION_LOCK_DURATION: duration('4s'),
  SHUTDOWN_GRACE: duration('10s'),
  PARASCAN_ADMIN_UI: z.enum(['true', 'false'], { message: 'must be true or false' }).default('true').transform((text) => text === 'true'),
  PARASCAN_MAX_INLINE_RECORDS: integer(100_000, 0, 100_000_000),
  PARASCAN_MAX_EXPRESSION_LENGTH: integer(4096, 1, 1_000_000),
  PARASCAN_MAX_PIPELINE_STEPS: integer(32, 0, 10_000),
  PARASCAN_MAX_RESULTS: integer(10_000_000, 0, 2 ** 53 - 1),
  PARASCAN_SCAN_TIMEOUT: duration('1h'),
  PARASCAN_MAX_QUEUED_SCANS: integer(10_000, 1, 100_000_000),
  PARASCAN_MAX_VALUE_BYTES: integer(4 * 1024 * 1024, 64, 2 ** 30),
  PARASCAN_MAX_RESULT_BYTES: integer(1024 * 1024, 64, 2 ** 30),
  PARASCAN_MAX_GROUPS: integer(100_000, 1, 100_000_000),
  PARASCAN_MAX_SCAN_RESULT_BYTES: integer(64 * 1024 * 1024, 1024, 2 ** 40),
  PARASCAN_MAX_PAGE_BYTES: integer(8 * 1024 * 1024, 1024, 2 ** 30),
  PARASCAN_MAX_QUEUED_SCANS_PER_TENANT: integer(1000, 1, 100_000_000),
  PARASCAN_API_KEYS: z.string().optional().transform((text, ctx) => {
    if (text === undefined || text.trim() === '') return undefined
    try {
      return parseApiKeys(text)
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message })
      return z.NEVER
    }
  }),
  METRICS_TOKEN: optionalText,
  PARASCAN_ADMIN_CREDENTIALS: z.string().optional().transform((text, ctx) => {
    if (text === undefined || text.trim() === '') return undefined
    try {
      return parseAdminCredentials(text.trim())
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message })
      return z.NEVER
    }
  }),
  PARASCAN_RATE_LIMIT: integer(0, 0, 1_000_000),
  PARASCAN_AUTH_FAILURE_LIMIT: integer(10, 1, 1_000_000_000),
  PARASCAN_MAX_CRASHED_ATTEMPTS: integer(1, 1, 1000),
  PARASCAN_REQUEST_TIMEOUT: duration('30s'),
  PARASCAN_HEADERS_TIMEOUT: duration('10s'),
  PARASCAN_KEEP_ALIVE_TIMEOUT: duration('5s'),
  PARASCAN_MAX_CONNECTIONS: integer(1000, 1, 1_000_000),
  PARASCAN_RECORD_TIME_LIMIT: duration('10s'),
  PARASCAN_WORKER_HEAP_MB: integer(512, 16, 65_536),
  PARASCAN_MAX_RUNNING_SCANS_PER_TENANT: integer(1, 0, 1_000_000),
  PARASCAN_AUTH_FAILURE_WINDOW: duration('1m'),
  PARASCAN_RATE_LIMIT_WINDOW: duration('1m'),
  PARASCAN_DATA_DIR_PER_TENANT: z.enum(['true', 'false'], { message: 'must be true or false' }).default('false').transform((text) => text === 'true')
})

export interface ServiceConfig {
  /** TCP port. Default: 3000. Env: PORT. */
  port: number
  /** Address to listen on. Default: '0.0.0.0'. Env: HOST. */
  host: string
  /** Redis for queue and store; unset means embedded mode. Default: unset. Env: REDIS_URL. */
  redisUrl?: string
  /** Root of `file` sources. Default: './data'. Env: DATA_DIR. */
  dataDir: string
  /** Directory of plug-in processors. Default: unset. Env: PROCESSORS_DIR. */
  processorsDir?: string
  /** Pino level. Default: 'info'. Env: LOG_LEVEL. */
  logLevel: string
  /** Largest request body in bytes. Default: 32 MiB. Env: BODY_LIMIT. */
  bodyLimit: number
  /** How long finished scans and their results are kept (ms). Default: 24 h. Env: RETENTION. */
  retentionMs: number
  /** Namespace of every Redis key and of the BullMQ queue. Default: 'parascan'. Env: PARASCAN_KEY_PREFIX. */
  keyPrefix: string
  /** Scans taken from the queue at a time by this instance (they share its one pool); 0 makes an API-only instance. Default: 1. Env: PARASCAN_CONCURRENCY. */
  concurrency: number
  /** BullMQ job lock; a dead instance's scan is taken over after about this long (ms). Default: 30 s. Env: PARASCAN_LOCK_DURATION. */
  lockDurationMs: number
  /** Period of progress updates in the store (ms). Default: 250. Env: PARASCAN_PROGRESS_INTERVAL. */
  progressIntervalMs: number
  /** Records per partition: a scan with more is split into partitions that every instance takes. Default: 1000000. Env: PARASCAN_PARTITION_RECORDS. */
  partitionRecords: number
  /** Most partitions of one scan (also the ceiling of a request's `partitions`). Default: 1000. Env: PARASCAN_MAX_PARTITIONS. */
  maxPartitions: number
  /** Lock of a running partition, renewed at half of it; also the stalled-check period. A dead instance's partitions run again elsewhere within about twice this. Default: 4 s. Env: PARASCAN_PARTITION_LOCK_DURATION. */
  partitionLockMs: number
  /** Time a running scan gets to finish at shutdown before it is handed back to the queue (ms). Default: 10 s. Env: SHUTDOWN_GRACE. */
  shutdownGraceMs: number
  /** The queue dashboard at /admin/queues (Redis mode only). Default: true. Env: PARASCAN_ADMIN_UI. */
  adminUi: boolean
  /** Most records of an `inline` source. Default: 100000. Env: PARASCAN_MAX_INLINE_RECORDS. */
  maxInlineRecords: number
  /** Longest CEL expression, in characters. Default: 4096. Env: PARASCAN_MAX_EXPRESSION_LENGTH. */
  maxExpressionLength: number
  /** Most steps in a pipeline. Default: 32. Env: PARASCAN_MAX_PIPELINE_STEPS. */
  maxPipelineSteps: number
  /** Ceiling of `max_results`; also the cap of a scan that gives none. Default: 10000000. Env: PARASCAN_MAX_RESULTS. */
  maxResults: number
  /** Longest run of one scan attempt (ms); a scan may ask for less with `timeout_seconds`. Default: 1 h. Env: PARASCAN_SCAN_TIMEOUT. */
  scanTimeoutMs: number
  /** Largest value of a record between two pipeline steps, as JSON in bytes; past it the record fails with PARASCAN_VALUE_TOO_LARGE. Default: 4 MiB. Env: PARASCAN_MAX_VALUE_BYTES. */
  maxValueBytes: number
  /** Largest result of one record, as JSON in bytes; past it the record fails with PARASCAN_VALUE_TOO_LARGE. Default: 1 MiB. Env: PARASCAN_MAX_RESULT_BYTES. */
  maxResultBytes: number
  /** Most groups of an aggregate; past it the record that would add one fails with PARASCAN_TOO_MANY_GROUPS. Default: 100000. Env: PARASCAN_MAX_GROUPS. */
  maxGroups: number
  /** Bytes of results one scan may store; past them it fails with PARASCAN_RESULTS_TOO_LARGE. Default: 64 MiB. Env: PARASCAN_MAX_SCAN_RESULT_BYTES. */
  maxScanResultBytes: number
  /** Bytes of items in one results page (at least one item is sent). Default: 8 MiB. Env: PARASCAN_MAX_PAGE_BYTES. */
  maxPageBytes: number
  /** Most scans queued at once, over all tenants. Default: 10000. Env: PARASCAN_MAX_QUEUED_SCANS. */
  maxQueuedScans: number
  /** Most scans queued at once by one tenant. Default: 1000. Env: PARASCAN_MAX_QUEUED_SCANS_PER_TENANT. */
  maxQueuedScansPerTenant: number
  /** API keys and their tenants; unset leaves the API open. Default: unset. Env: PARASCAN_API_KEYS. */
  apiKeys?: ApiKeyEntry[]
  /** HTTP Basic credential of the queue dashboard; with API keys and without it the dashboard is off. Default: unset. Env: PARASCAN_ADMIN_CREDENTIALS. */
  adminCredentials?: AdminCredentials
  /** Bearer token that GET /metrics requires. Default: unset (open). Env: METRICS_TOKEN. */
  metricsToken?: string
  /** Requests per tenant (or client address) per window; 0 turns rate limiting off. Default: 0. Env: PARASCAN_RATE_LIMIT. */
  rateLimit: number
  /** Window of the rate limit (ms). Default: 1 min. Env: PARASCAN_RATE_LIMIT_WINDOW. */
  rateLimitWindowMs: number
  /** Failed keys or tokens from one client address per window, past which it gets 429s until the window ends. Default: 10. Env: PARASCAN_AUTH_FAILURE_LIMIT. */
  authFailureLimit: number
  /** Window of PARASCAN_AUTH_FAILURE_LIMIT (ms). Default: 1 min. Env: PARASCAN_AUTH_FAILURE_WINDOW. */
  authFailureWindowMs: number
  /** Attempts of one scan that may end with their instance dead (Redis mode); at that many the scan fails with PARASCAN_INSTANCE_CRASHED instead of running again. Default: 1. Env: PARASCAN_MAX_CRASHED_ATTEMPTS. */
  maxCrashedAttempts: number
  /** Time to receive a whole request (ms); past it a 408 problem+json. Default: 30 s. Env: PARASCAN_REQUEST_TIMEOUT. */
  requestTimeoutMs: number
  /** Time to receive a request's headers (ms). Default: 10 s. Env: PARASCAN_HEADERS_TIMEOUT. */
  headersTimeoutMs: number
  /** How long an idle keep-alive connection stays open (ms). Default: 5 s. Env: PARASCAN_KEEP_ALIVE_TIMEOUT. */
  keepAliveTimeoutMs: number
  /** Most open HTTP connections; more are closed at once. Default: 1000. Env: PARASCAN_MAX_CONNECTIONS. */
  maxConnections: number
  /** Longest time one record may spend in the pipeline (ms); past it its thread is ended and the record fails with PARASCAN_RECORD_TIME_LIMIT (`on_error` applies); 0 is no limit. Default: 10 s. Env: PARASCAN_RECORD_TIME_LIMIT. */
  recordTimeLimitMs: number
  /** Heap limit of each worker thread (MiB); a thread past it fails its scan with PARASCAN_WORKER_OUT_OF_MEMORY and is replaced. Default: 512. Env: PARASCAN_WORKER_HEAP_MB. */
  workerHeapMb: number
  /** Scans one tenant may run at once, over all instances, while scans of other tenants wait; past it a job is put back behind theirs. 0 is no limit. Default: 1. Env: PARASCAN_MAX_RUNNING_SCANS_PER_TENANT. */
  maxRunningScansPerTenant: number
  /** Confines each tenant's file sources to DATA_DIR/<tenant>. Default: false. Env: PARASCAN_DATA_DIR_PER_TENANT. */
  dataDirPerTenant: boolean
}

/** Reads and checks the service's environment; throws InvalidConfigError naming the first bad variable. */
export function loadServiceConfig (env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const parsed = serviceEnvSchema.safeParse(Object.fromEntries(
    Object.keys(serviceEnvSchema.shape).filter((key) => env[key] !== undefined && env[key] !== '').map((key) => [key, env[key]])
  ))
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new InvalidConfigError(String(issue.path[0]), issue.message)
  }
  const e = parsed.data
  if (e.PARASCAN_CONCURRENCY === 0 && e.REDIS_URL === undefined) {
    throw new InvalidConfigError('PARASCAN_CONCURRENCY', '0 (an API-only instance) needs REDIS_URL: in embedded mode nothing else would run the scans')
  }
  if (e.PARASCAN_DATA_DIR_PER_TENANT && e.PARASCAN_API_KEYS === undefined) {
    throw new InvalidConfigError('PARASCAN_DATA_DIR_PER_TENANT', 'true needs PARASCAN_API_KEYS: without keys there are no tenants')
  }
  if (e.PARASCAN_PARTITION_LOCK_DURATION < 1000) throw new InvalidConfigError('PARASCAN_PARTITION_LOCK_DURATION', 'must be at least 1s')
  if (e.PARASCAN_SCAN_TIMEOUT < 1) throw new InvalidConfigError('PARASCAN_SCAN_TIMEOUT', 'must be at least 1ms')
  return {
    port: e.PORT,
    host: e.HOST,
    redisUrl: e.REDIS_URL,
    dataDir: e.DATA_DIR,
    processorsDir: e.PROCESSORS_DIR,
    logLevel: e.LOG_LEVEL,
    bodyLimit: e.BODY_LIMIT,
    retentionMs: e.RETENTION,
    keyPrefix: e.PARASCAN_KEY_PREFIX,
    concurrency: e.PARASCAN_CONCURRENCY,
    lockDurationMs: e.PARASCAN_LOCK_DURATION,
    progressIntervalMs: e.PARASCAN_PROGRESS_INTERVAL,
    partitionRecords: e.PARASCAN_PARTITION_RECORDS,
    maxPartitions: e.PARASCAN_MAX_PARTITIONS,
    partitionLockMs: e.PARASCAN_PARTITION_LOCK_DURATION,
    shutdownGraceMs: e.SHUTDOWN_GRACE,
    adminUi: e.PARASCAN_ADMIN_UI,
    maxInlineRecords: e.PARASCAN_MAX_INLINE_RECORDS,
    maxExpressionLength: e.PARASCAN_MAX_EXPRESSION_LENGTH,
    maxPipelineSteps: e.PARASCAN_MAX_PIPELINE_STEPS,
    maxResults: e.PARASCAN_MAX_RESULTS,
    scanTimeoutMs: e.PARASCAN_SCAN_TIMEOUT,
    maxQueuedScans: e.PARASCAN_MAX_QUEUED_SCANS,
    maxValueBytes: e.PARASCAN_MAX_VALUE_BYTES,
    maxResultBytes: e.PARASCAN_MAX_RESULT_BYTES,
    maxGroups: e.PARASCAN_MAX_GROUPS,
    maxScanResultBytes: e.PARASCAN_MAX_SCAN_RESULT_BYTES,
    maxPageBytes: e.PARASCAN_MAX_PAGE_BYTES,
    maxQueuedScansPerTenant: e.PARASCAN_MAX_QUEUED_SCANS_PER_TENANT,
    apiKeys: e.PARASCAN_API_KEYS,
    metricsToken: e.METRICS_TOKEN,
    adminCredentials: e.PARASCAN_ADMIN_CREDENTIALS,
    rateLimit: e.PARASCAN_RATE_LIMIT,
    rateLimitWindowMs: e.PARASCAN_RATE_LIMIT_WINDOW,
    authFailureLimit: e.PARASCAN_AUTH_FAILURE_LIMIT,
    authFailureWindowMs: e.PARASCAN_AUTH_FAILURE_WINDOW,
    maxCrashedAttempts: e.PARASCAN_MAX_CRASHED_ATTEMPTS,
    requestTimeoutMs: e.PARASCAN_REQUEST_TIMEOUT,
    headersTimeoutMs: e.PARASCAN_HEADERS_TIMEOUT,
    keepAliveTimeoutMs: e.PARASCAN_KEEP_ALIVE_TIMEOUT,
    maxConnections: e.PARASCAN_MAX_CONNECTIONS,
    recordTimeLimitMs: e.PARASCAN_RECORD_TIME_LIMIT,
    workerHeapMb: e.PARASCAN_WORKER_HEAP_MB,
    maxRunningScansPerTenant: e.PARASCAN_MAX_RUNNING_SCANS_PER_TENANT,
    dataDirPerTenant: e.PARASCAN_DATA_DIR_PER_TENANT
  }
}
