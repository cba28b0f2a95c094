import { z } from 'zod'
import { parseDuration } from './duration.js'
import { InvalidConfigError } from '../errors.js'

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
  SHUTDOWN_GRACE: duration('10s'),
  PARASCAN_ADMIN_UI: z.enum(['true', 'false'], { message: 'must be true or false' }).default('true').transform((text) => text === 'true')
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
  /** Time a running scan gets to finish at shutdown before it is handed back to the queue (ms). Default: 10 s. Env: SHUTDOWN_GRACE. */
  shutdownGraceMs: number
  /** The queue dashboard at /admin/queues (Redis mode only). Default: true. Env: PARASCAN_ADMIN_UI. */
  adminUi: boolean
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
    shutdownGraceMs: e.SHUTDOWN_GRACE,
    adminUi: e.PARASCAN_ADMIN_UI
  }
}
