import { isServiceCode } from '../error-codes.js'

const UNAVAILABLE = /enableOfflineQueue|Connection is closed|Command timed out|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|Reached the max retries per request limit|LOADING|MISCONF|READONLY/

/** True for an error of a Redis client that could not reach Redis (down, restarting or loading its data). */
export function isRedisUnavailable (error: unknown): boolean {
  const e = error as { name?: unknown, message?: unknown, code?: unknown, statusCode?: unknown }
  if (e === null || typeof e !== 'object') return false
  if (e.name === 'MaxRetriesPerRequestError') return true
  if (isServiceCode(e.code) || (typeof e.code === 'string' && e.code.startsWith('FST_'))) return false
  if (typeof e.statusCode === 'number' && e.statusCode < 500) return false
  return typeof e.message === 'string' && UNAVAILABLE.test(e.message)
}
