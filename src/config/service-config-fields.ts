import type { ApiKeyEntry } from './api-keys.js'
import type { AdminCredentials } from './admin-credentials.js'
import type { ServiceVariable } from './service-config.js'

/** The service's settings, each read from its environment variable (serviceEnvSchema holds the defaults). */
export interface ServiceConfig {
  /** The name each variable was read from (a deprecated one, or its own). */
  variables: Readonly<Record<ServiceVariable, string>>
  /** One line for each deprecated variable that is set. */
  deprecated: string[]
  /**
   * TCP port. Env: PARASCAN_PORT.
   * @defaultValue 3000
   */
  port: number
  /**
   * Address to listen on. Env: PARASCAN_HOST.
   * @defaultValue '0.0.0.0'
   */
  host: string
  /**
   * Redis for queue and store; unset means embedded mode. Env: PARASCAN_REDIS_URL.
   * @defaultValue unset
   */
  redisUrl?: string
  /**
   * Root of `file` sources. Env: PARASCAN_DATA_DIR.
   * @defaultValue './data'
   */
  dataDir: string
  /**
   * Directory of plug-in processors. Env: PARASCAN_PROCESSORS_DIR.
   * @defaultValue unset
   */
  processorsDir?: string
  /**
   * Pino level. Env: PARASCAN_LOG_LEVEL.
   * @defaultValue 'info'
   */
  logLevel: string
  /**
   * Largest request body in bytes. Env: PARASCAN_BODY_LIMIT.
   * @defaultValue 32 MiB
   */
  bodyLimit: number
  /**
   * How long finished scans and their results are kept (ms). Env: PARASCAN_RETENTION.
   * @defaultValue 24 h
   */
  retentionMs: number
  /**
   * Namespace of every Redis key and of the BullMQ queue. Env: PARASCAN_KEY_PREFIX.
   * @defaultValue 'parascan'
   */
  keyPrefix: string
  /**
   * Scan jobs, and partition jobs apart, this instance runs at once, and one more scan job for a tenant that runs none here; they share its one pool. 0 makes an API-only instance. Env: PARASCAN_CONCURRENCY.
   * @defaultValue 1
   */
  concurrency: number
  /**
   * BullMQ job lock; a dead instance's scan is taken over after about this long (ms). Env: PARASCAN_LOCK_DURATION.
   * @defaultValue 30 s
   */
  lockDurationMs: number
  /**
   * Period of progress updates in the store (ms). Env: PARASCAN_PROGRESS_INTERVAL.
   * @defaultValue 250
   */
  progressIntervalMs: number
  /**
   * Records per partition: a scan with more is split into partitions that every instance takes. Env: PARASCAN_PARTITION_RECORDS.
   * @defaultValue 1000000
   */
  partitionRecords: number
  /**
   * Most partitions of one scan (also the ceiling of a request's `partitions`). Env: PARASCAN_MAX_PARTITIONS.
   * @defaultValue 1000
   */
  maxPartitions: number
  /**
   * Lock of a running partition, renewed every eighth of it and checked for stalls every quarter of it: a dead instance's partitions are queued again within 1.25 times this. Env: PARASCAN_PARTITION_LOCK_DURATION.
   * @defaultValue 4 s
   */
  partitionLockMs: number
  /**
   * Time a running scan gets to finish at shutdown before it is handed back to the queue (ms). Env: PARASCAN_SHUTDOWN_GRACE.
   * @defaultValue 10 s
   */
  shutdownGraceMs: number
  /**
   * The queue dashboard at /admin/queues (Redis mode only). Env: PARASCAN_ADMIN_UI.
   * @defaultValue true
   */
  adminUi: boolean
  /**
   * Most records of an `inline` source. Env: PARASCAN_MAX_INLINE_RECORDS.
   * @defaultValue 100000
   */
  maxInlineRecords: number
  /**
   * Longest CEL expression, in characters. Env: PARASCAN_MAX_EXPRESSION_LENGTH.
   * @defaultValue 4096
   */
  maxExpressionLength: number
  /**
   * Most steps in a pipeline. Env: PARASCAN_MAX_PIPELINE_STEPS.
   * @defaultValue 32
   */
  maxPipelineSteps: number
  /**
   * Ceiling of `max_results`; also the cap of a scan that gives none. Env: PARASCAN_MAX_RESULTS.
   * @defaultValue 10000000
   */
  maxResults: number
  /**
   * Longest run of one scan attempt (ms); a scan may ask for less with `timeout_seconds`. Env: PARASCAN_SCAN_TIMEOUT.
   * @defaultValue 1 h
   */
  scanTimeoutMs: number
  /**
   * Largest value of a record between two pipeline steps, as JSON in bytes; past it the record fails with PARASCAN_VALUE_TOO_LARGE. Env: PARASCAN_MAX_VALUE_BYTES.
   * @defaultValue 4 MiB
   */
  maxValueBytes: number
  /**
   * Largest result of one record, as JSON in bytes; past it the record fails with PARASCAN_VALUE_TOO_LARGE. Env: PARASCAN_MAX_RESULT_BYTES.
   * @defaultValue 1 MiB
   */
  maxResultBytes: number
  /**
   * Most groups of an aggregate; past it the record that would add one fails with PARASCAN_TOO_MANY_GROUPS. Env: PARASCAN_MAX_GROUPS.
   * @defaultValue 100000
   */
  maxGroups: number
  /**
   * Bytes of results one scan may store; past them it fails with PARASCAN_RESULTS_TOO_LARGE. Env: PARASCAN_MAX_SCAN_RESULT_BYTES.
   * @defaultValue 64 MiB
   */
  maxScanResultBytes: number
  /**
   * Bytes of items in one results page (at least one item is sent). Env: PARASCAN_MAX_PAGE_BYTES.
   * @defaultValue 8 MiB
   */
  maxPageBytes: number
  /**
   * Bytes of results one tenant may keep stored, over its running and finished scans; 0 is no quota. Env: PARASCAN_TENANT_STORAGE_BYTES.
   * @defaultValue 1 GiB
   */
  tenantStorageBytes: number
  /**
   * Tenants with a storage quota of their own (bytes; 0 is none). Env: PARASCAN_TENANT_STORAGE_BYTES_PER_TENANT.
   * @defaultValue unset
   */
  tenantStorageBytesPerTenant?: Map<string, number>
  /**
   * Most scans queued at once, over all tenants. Env: PARASCAN_MAX_QUEUED_SCANS.
   * @defaultValue 10000
   */
  maxQueuedScans: number
  /**
   * Most scans queued at once by one tenant. Env: PARASCAN_MAX_QUEUED_SCANS_PER_TENANT.
   * @defaultValue 1000
   */
  maxQueuedScansPerTenant: number
  /**
   * API keys and their tenants; unset leaves the API open. Env: PARASCAN_API_KEYS.
   * @defaultValue unset
   */
  apiKeys?: ApiKeyEntry[]
  /**
   * HTTP Basic credential of the queue dashboard; with API keys and without it the dashboard is off. Env: PARASCAN_ADMIN_CREDENTIALS.
   * @defaultValue unset
   */
  adminCredentials?: AdminCredentials
  /**
   * Bearer token that GET /metrics requires. Env: PARASCAN_METRICS_TOKEN.
   * @defaultValue unset (open)
   */
  metricsToken?: string
  /**
   * Requests per tenant (or client address) per window; 0 turns rate limiting off. Env: PARASCAN_RATE_LIMIT.
   * @defaultValue 0
   */
  rateLimit: number
  /**
   * Window of the rate limit (ms). Env: PARASCAN_RATE_LIMIT_WINDOW.
   * @defaultValue 1 min
   */
  rateLimitWindowMs: number
  /**
   * Failed keys or tokens from one client address per window, past which it gets 429s until the window ends. Env: PARASCAN_AUTH_FAILURE_LIMIT.
   * @defaultValue 10
   */
  authFailureLimit: number
  /**
   * Window of PARASCAN_AUTH_FAILURE_LIMIT (ms). Env: PARASCAN_AUTH_FAILURE_WINDOW.
   * @defaultValue 1 min
   */
  authFailureWindowMs: number
  /**
   * Attempts of one scan that may end with their instance dead (Redis mode); at that many the scan fails with PARASCAN_INSTANCE_CRASHED instead of running again. Env: PARASCAN_MAX_CRASHED_ATTEMPTS.
   * @defaultValue 1
   */
  maxCrashedAttempts: number
  /**
   * Time to receive a whole request (ms); past it a 408 problem+json. Env: PARASCAN_REQUEST_TIMEOUT.
   * @defaultValue 30 s
   */
  requestTimeoutMs: number
  /**
   * Time to receive a request's headers (ms). Env: PARASCAN_HEADERS_TIMEOUT.
   * @defaultValue 10 s
   */
  headersTimeoutMs: number
  /**
   * How long an idle keep-alive connection stays open (ms). Env: PARASCAN_KEEP_ALIVE_TIMEOUT.
   * @defaultValue 5 s
   */
  keepAliveTimeoutMs: number
  /**
   * Most open HTTP connections; one more gets a 503 problem+json and is closed at once. Env: PARASCAN_MAX_CONNECTIONS.
   * @defaultValue 1000
   */
  maxConnections: number
  /**
   * Longest time one record may spend in the pipeline (ms); past it its thread is ended and the record fails with PARASCAN_RECORD_TIME_LIMIT (`on_error` applies); 0 is no limit. Env: PARASCAN_RECORD_TIME_LIMIT.
   * @defaultValue 10 s
   */
  recordTimeLimitMs: number
  /**
   * Heap limit of each worker thread (MiB); a thread past it fails its scan with PARASCAN_WORKER_OUT_OF_MEMORY and is replaced. Env: PARASCAN_WORKER_HEAP_MB.
   * @defaultValue 512
   */
  workerHeapMb: number
  /**
   * Scans one tenant may run at once, over all instances, while scans of other tenants wait; past it a job is put back behind theirs. 0 is no limit. Env: PARASCAN_MAX_RUNNING_SCANS_PER_TENANT.
   * @defaultValue 1
   */
  maxRunningScansPerTenant: number
  /**
   * Confines each tenant's file sources to PARASCAN_DATA_DIR/<tenant>. Env: PARASCAN_DATA_DIR_PER_TENANT.
   * @defaultValue false
   */
  dataDirPerTenant: boolean
  /**
   * Where embedded mode keeps its scans, their results and its queue so that they outlive the process; unset keeps them in memory. Env: PARASCAN_STATE_DIR.
   * @defaultValue unset
   */
  stateDir?: string
  /**
   * Ceiling of a status request's `wait` (GET /v1/scans/:id?wait=…); longer waits are cut to it. Env: PARASCAN_MAX_STATUS_WAIT.
   * @defaultValue 30 s
   */
  maxStatusWaitMs: number
  /**
   * Status requests that may wait at once on this instance, and at most half of maxConnections; one more is a 503 PARASCAN_TOO_MANY_WAITERS. 0 answers every status request at once. Env: PARASCAN_MAX_STATUS_WAITERS.
   * @defaultValue 500
   */
  maxStatusWaiters: number
  /**
   * Period of the store reads by which a waiting status request sees its scan end on another instance (ms). Env: PARASCAN_STATUS_WAIT_POLL_INTERVAL.
   * @defaultValue 500
   */
  statusWaitPollMs: number
}
