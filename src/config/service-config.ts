import { z } from 'zod'
import { parseDuration } from './duration.js'
import { InvalidConfigError } from '../errors.js'
import { parseApiKeys, type ApiKeyEntry } from './api-keys.js'
import { parseAdminCredentials, type AdminCredentials } from './admin-credentials.js'
import { parseTenantQuotas } from './tenant-storage-quota.js'

/** What docs/configuration.md states of a variable; a test holds the two together. */
export interface VariableDoc {
  /** The default as written in the environment; undefined: unset. */
  default?: string
  /** Accepted values, e.g. `0..65535` or `a duration`. */
  range: string
}

const doc = <T extends z.ZodType>(schema: T, variable: VariableDoc): T => schema.meta({ variable })

const duration = (fallback: string) => doc(z.string().default(fallback).transform((text, ctx) => {
  const ms = parseDuration(text)
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration (e.g. 500ms, 30s, 15m, 24h, 7d)` })
    return z.NEVER
  }
  return ms
}), { default: fallback, range: 'a duration' })

const integer = (fallback: number, min: number, max: number) =>
  doc(z.string().default(String(fallback)).transform((text, ctx) => {
    const value = Number(text)
    if (!/^\s*\d+\s*$/.test(text) || value < min || value > max) {
      ctx.addIssue({ code: 'custom', message: `"${text}" must be an integer from ${min} to ${max}` })
      return z.NEVER
    }
    return value
  }), { default: String(fallback), range: `${min}..${max}` })

const boolean = (fallback: 'true' | 'false') =>
  doc(z.enum(['true', 'false'], { message: 'must be true or false' }).default(fallback).transform((text) => text === 'true'), { default: fallback, range: 'true, false' })

const optionalText = (range: string) => doc(z.string().trim().min(1).optional().catch(undefined), { range })

const parsed = <T>(parse: (text: string) => T, range: string) => doc(z.string().optional().transform((text, ctx) => {
  if (text === undefined || text.trim() === '') return undefined
  try {
    return parse(text.trim())
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message })
    return z.NEVER
  }
}), { range })

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

export const serviceEnvSchema = z.object({
  PARASCAN_PORT: integer(3000, 0, 65535),
  PARASCAN_HOST: doc(z.string().min(1).default('0.0.0.0'), { default: '0.0.0.0', range: 'an address' }),
  PARASCAN_REDIS_URL: parsed((text) => {
    const protocol = URL.canParse(text) ? new URL(text).protocol : ''
    if (protocol !== 'redis:' && protocol !== 'rediss:') throw new Error(`"${text}" is not a redis:// or rediss:// URL`)
    return text
  }, 'a redis:// or rediss:// URL'),
  PARASCAN_DATA_DIR: doc(z.string().min(1).default('./data'), { default: './data', range: 'a directory' }),
  PARASCAN_PROCESSORS_DIR: optionalText('a directory'),
  PARASCAN_LOG_LEVEL: doc(z.enum(LOG_LEVELS).default('info'), { default: 'info', range: LOG_LEVELS.join(', ') }),
  PARASCAN_BODY_LIMIT: integer(32 * 1024 * 1024, 1024, 2 ** 31 - 1),
  PARASCAN_RETENTION: duration('24h'),
  PARASCAN_KEY_PREFIX: doc(z.string().regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits, _ . : - only').default('parascan'), { default: 'parascan', range: 'letters, digits, _ . : -' }),
  PARASCAN_CONCURRENCY: integer(1, 0, 64),
  PARASCAN_LOCK_DURATION: duration('30s'),
  PARASCAN_PROGRESS_INTERVAL: duration('250ms'),
  PARASCAN_PARTITION_RECORDS: integer(1_000_000, 1, 2 ** 53 - 1),
  PARASCAN_MAX_PARTITIONS: integer(1000, 1, 100_000),
  PARASCAN_PARTITION_LOCK_DURATION: duration('4s'),
  PARASCAN_SHUTDOWN_GRACE: duration('10s'),
  PARASCAN_ADMIN_UI: boolean('true'),
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
  PARASCAN_TENANT_STORAGE_BYTES: integer(1024 * 1024 * 1024, 0, 2 ** 50),
  PARASCAN_TENANT_STORAGE_BYTES_PER_TENANT: parsed(parseTenantQuotas, '`tenant:bytes`, comma-separated'),
  PARASCAN_MAX_QUEUED_SCANS_PER_TENANT: integer(1000, 1, 100_000_000),
  PARASCAN_API_KEYS: parsed(parseApiKeys, '`tenant:key` or `tenant:sha256:<64 hex>`, comma-separated'),
  PARASCAN_METRICS_TOKEN: optionalText('a token'),
  PARASCAN_ADMIN_CREDENTIALS: parsed(parseAdminCredentials, '`user:password` or `user:sha256:<64 hex>`'),
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
  PARASCAN_DATA_DIR_PER_TENANT: boolean('false')
})

export interface ServiceConfig {
  /** The name each variable was read from (a deprecated one, or its own). */
  variables: Readonly<Record<ServiceVariable, string>>
  /** One line for each deprecated variable that is set. */
  deprecated: string[]
  /** TCP port. Default: 3000. Env: PARASCAN_PORT. */
  port: number
  /** Address to listen on. Default: '0.0.0.0'. Env: PARASCAN_HOST. */
  host: string
  /** Redis for queue and store; unset means embedded mode. Default: unset. Env: PARASCAN_REDIS_URL. */
  redisUrl?: string
  /** Root of `file` sources. Default: './data'. Env: PARASCAN_DATA_DIR. */
  dataDir: string
  /** Directory of plug-in processors. Default: unset. Env: PARASCAN_PROCESSORS_DIR. */
  processorsDir?: string
  /** Pino level. Default: 'info'. Env: PARASCAN_LOG_LEVEL. */
  logLevel: string
  /** Largest request body in bytes. Default: 32 MiB. Env: PARASCAN_BODY_LIMIT. */
  bodyLimit: number
  /** How long finished scans and their results are kept (ms). Default: 24 h. Env: PARASCAN_RETENTION. */
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
  /** Time a running scan gets to finish at shutdown before it is handed back to the queue (ms). Default: 10 s. Env: PARASCAN_SHUTDOWN_GRACE. */
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
  /** Bytes of results one tenant may keep stored, over its running and finished scans; 0 is no quota. Default: 1 GiB. Env: PARASCAN_TENANT_STORAGE_BYTES. */
  tenantStorageBytes: number
  /** Tenants with a storage quota of their own (bytes; 0 is none). Default: unset. Env: PARASCAN_TENANT_STORAGE_BYTES_PER_TENANT. */
  tenantStorageBytesPerTenant?: Map<string, number>
  /** Most scans queued at once, over all tenants. Default: 10000. Env: PARASCAN_MAX_QUEUED_SCANS. */
  maxQueuedScans: number
  /** Most scans queued at once by one tenant. Default: 1000. Env: PARASCAN_MAX_QUEUED_SCANS_PER_TENANT. */
  maxQueuedScansPerTenant: number
  /** API keys and their tenants; unset leaves the API open. Default: unset. Env: PARASCAN_API_KEYS. */
  apiKeys?: ApiKeyEntry[]
  /** HTTP Basic credential of the queue dashboard; with API keys and without it the dashboard is off. Default: unset. Env: PARASCAN_ADMIN_CREDENTIALS. */
  adminCredentials?: AdminCredentials
  /** Bearer token that GET /metrics requires. Default: unset (open). Env: PARASCAN_METRICS_TOKEN. */
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
  /** Confines each tenant's file sources to PARASCAN_DATA_DIR/<tenant>. Default: false. Env: PARASCAN_DATA_DIR_PER_TENANT. */
  dataDirPerTenant: boolean
}

export type ServiceVariable = keyof typeof serviceEnvSchema.shape

/** Earlier names of variables, still read when the new name is not set, with a deprecation warning. */
export const DEPRECATED_VARIABLES: Readonly<Record<string, ServiceVariable>> = {
  PORT: 'PARASCAN_PORT',
  HOST: 'PARASCAN_HOST',
  REDIS_URL: 'PARASCAN_REDIS_URL',
  DATA_DIR: 'PARASCAN_DATA_DIR',
  PROCESSORS_DIR: 'PARASCAN_PROCESSORS_DIR',
  LOG_LEVEL: 'PARASCAN_LOG_LEVEL',
  BODY_LIMIT: 'PARASCAN_BODY_LIMIT',
  RETENTION: 'PARASCAN_RETENTION',
  SHUTDOWN_GRACE: 'PARASCAN_SHUTDOWN_GRACE',
  METRICS_TOKEN: 'PARASCAN_METRICS_TOKEN'
}

/** The documentation of each variable of the schema (default and accepted values). */
export function variableDocs (): Record<ServiceVariable, VariableDoc> {
  return Object.fromEntries(Object.entries(serviceEnvSchema.shape).map(([name, schema]) =>
    [name, (schema.meta() as { variable: VariableDoc }).variable])) as Record<ServiceVariable, VariableDoc>
}

/** Reads and checks the service's environment; throws InvalidConfigError naming the first bad variable as it was set. */
export function loadServiceConfig (env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const set = (name: string): boolean => env[name] !== undefined && env[name] !== ''
  const names = {} as Record<ServiceVariable, string>
  const deprecated: string[] = []
  for (const name of Object.keys(serviceEnvSchema.shape) as ServiceVariable[]) names[name] = name
  for (const [old, name] of Object.entries(DEPRECATED_VARIABLES)) {
    if (!set(old)) continue
    if (set(name)) {
      deprecated.push(`${old} is deprecated and ignored: ${name} is set`)
    } else {
      names[name] = old
      deprecated.push(`${old} is deprecated: use ${name}`)
    }
  }
  const parsed = serviceEnvSchema.safeParse(Object.fromEntries(
    Object.entries(names).filter(([, given]) => set(given)).map(([name, given]) => [name, env[given]])
  ))
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new InvalidConfigError(names[issue.path[0] as ServiceVariable] ?? String(issue.path[0]), issue.message)
  }
  const e = parsed.data
  if (e.PARASCAN_CONCURRENCY === 0 && e.PARASCAN_REDIS_URL === undefined) {
    throw new InvalidConfigError('PARASCAN_CONCURRENCY', '0 (an API-only instance) needs PARASCAN_REDIS_URL: in embedded mode nothing else would run the scans')
  }
  if (e.PARASCAN_DATA_DIR_PER_TENANT && e.PARASCAN_API_KEYS === undefined) {
    throw new InvalidConfigError('PARASCAN_DATA_DIR_PER_TENANT', 'true needs PARASCAN_API_KEYS: without keys there are no tenants')
  }
  if (e.PARASCAN_PARTITION_LOCK_DURATION < 1000) throw new InvalidConfigError('PARASCAN_PARTITION_LOCK_DURATION', 'must be at least 1s')
  if (e.PARASCAN_SCAN_TIMEOUT < 1) throw new InvalidConfigError('PARASCAN_SCAN_TIMEOUT', 'must be at least 1ms')
  return {
    variables: names,
    deprecated,
    port: e.PARASCAN_PORT,
    host: e.PARASCAN_HOST,
    redisUrl: e.PARASCAN_REDIS_URL,
    dataDir: e.PARASCAN_DATA_DIR,
    processorsDir: e.PARASCAN_PROCESSORS_DIR,
    logLevel: e.PARASCAN_LOG_LEVEL,
    bodyLimit: e.PARASCAN_BODY_LIMIT,
    retentionMs: e.PARASCAN_RETENTION,
    keyPrefix: e.PARASCAN_KEY_PREFIX,
    concurrency: e.PARASCAN_CONCURRENCY,
    lockDurationMs: e.PARASCAN_LOCK_DURATION,
    progressIntervalMs: e.PARASCAN_PROGRESS_INTERVAL,
    partitionRecords: e.PARASCAN_PARTITION_RECORDS,
    maxPartitions: e.PARASCAN_MAX_PARTITIONS,
    partitionLockMs: e.PARASCAN_PARTITION_LOCK_DURATION,
    shutdownGraceMs: e.PARASCAN_SHUTDOWN_GRACE,
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
    tenantStorageBytes: e.PARASCAN_TENANT_STORAGE_BYTES,
    tenantStorageBytesPerTenant: e.PARASCAN_TENANT_STORAGE_BYTES_PER_TENANT,
    maxQueuedScansPerTenant: e.PARASCAN_MAX_QUEUED_SCANS_PER_TENANT,
    apiKeys: e.PARASCAN_API_KEYS,
    metricsToken: e.PARASCAN_METRICS_TOKEN,
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
