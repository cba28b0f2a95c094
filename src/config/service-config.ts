import { z } from 'zod'
import { InvalidConfigError } from '../errors.js'
import { parseApiKeys } from './api-keys.js'
import { parseAdminCredentials } from './admin-credentials.js'
import { boolean, doc, duration, integer, optionalText, parsed, type VariableDoc } from './env-fields.js'
import type { ServiceConfig } from './service-config-fields.js'
import { DEFAULT_VALUE_LIMITS } from '../pipeline/value-limits.js'
import { DEFAULT_MAX_OLD_GENERATION_MB } from '../parallel/work-stealing-pool.js'
import { parseTenantQuotas } from './tenant-storage-quota.js'

export type { ServiceConfig } from './service-config-fields.js'
export type { VariableDoc } from './env-fields.js'

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
  PARASCAN_PARTITION_LOCK_DURATION: duration('4s', 'a duration from 1s to 1h'),
  PARASCAN_SHUTDOWN_GRACE: duration('10s'),
  PARASCAN_ADMIN_UI: boolean('true'),
  PARASCAN_MAX_INLINE_RECORDS: integer(100_000, 0, 100_000_000),
  PARASCAN_MAX_EXPRESSION_LENGTH: integer(4096, 1, 1_000_000),
  PARASCAN_MAX_PIPELINE_STEPS: integer(32, 0, 10_000),
  PARASCAN_MAX_RESULTS: integer(10_000_000, 0, 2 ** 53 - 1),
  PARASCAN_SCAN_TIMEOUT: duration('1h'),
  PARASCAN_MAX_QUEUED_SCANS: integer(10_000, 1, 100_000_000),
  PARASCAN_MAX_VALUE_BYTES: integer(DEFAULT_VALUE_LIMITS.valueBytes, 64, 2 ** 30),
  PARASCAN_MAX_RESULT_BYTES: integer(DEFAULT_VALUE_LIMITS.resultBytes, 64, 2 ** 30),
  PARASCAN_MAX_GROUPS: integer(DEFAULT_VALUE_LIMITS.groups, 1, 100_000_000),
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
  PARASCAN_WORKER_HEAP_MB: integer(DEFAULT_MAX_OLD_GENERATION_MB, 16, 65_536),
  PARASCAN_MAX_RUNNING_SCANS_PER_TENANT: integer(1, 0, 1_000_000),
  PARASCAN_AUTH_FAILURE_WINDOW: duration('1m'),
  PARASCAN_RATE_LIMIT_WINDOW: duration('1m'),
  PARASCAN_DATA_DIR_PER_TENANT: boolean('false'),
  PARASCAN_STATE_DIR: optionalText('a directory'),
  PARASCAN_MAX_STATUS_WAIT: duration('30s'),
  PARASCAN_MAX_STATUS_WAITERS: integer(500, 0, 1_000_000),
  PARASCAN_STATUS_WAIT_POLL_INTERVAL: duration('500ms', 'a duration of at least 10ms')
})

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
  if (e.PARASCAN_STATE_DIR !== undefined && e.PARASCAN_REDIS_URL !== undefined) {
    throw new InvalidConfigError('PARASCAN_STATE_DIR', 'is for embedded mode: with PARASCAN_REDIS_URL the scans live in Redis')
  }
  if (e.PARASCAN_PARTITION_LOCK_DURATION < 1000 || e.PARASCAN_PARTITION_LOCK_DURATION > 3_600_000) {
    throw new InvalidConfigError('PARASCAN_PARTITION_LOCK_DURATION', 'must be from 1s to 1h')
  }
  if (e.PARASCAN_STATUS_WAIT_POLL_INTERVAL < 10) throw new InvalidConfigError('PARASCAN_STATUS_WAIT_POLL_INTERVAL', 'must be at least 10ms')
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
    dataDirPerTenant: e.PARASCAN_DATA_DIR_PER_TENANT,
    stateDir: e.PARASCAN_STATE_DIR,
    maxStatusWaitMs: e.PARASCAN_MAX_STATUS_WAIT,
    maxStatusWaiters: e.PARASCAN_MAX_STATUS_WAITERS,
    statusWaitPollMs: e.PARASCAN_STATUS_WAIT_POLL_INTERVAL
  }
}

/** Every setting as it is when no variable is set: the defaults of the options these settings feed. */
export const SERVICE_DEFAULTS: Readonly<ServiceConfig> = Object.freeze(loadServiceConfig({}))
