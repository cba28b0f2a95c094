import { luaCommand } from './lua-script.js'
import type { ScanOutcome } from './scan-record.js'

export const done = (reply: unknown): boolean => reply === 1

/** When a finished scan expires, and the retention that tells it. */
export interface ScanEnding {
  finishedAt: string
  expiresAt: string
  retentionMs: number
}

/** An outcome as the finish scripts take it: the status and a JSON text a field. */
export function outcomeArgs (outcome: ScanOutcome): Record<'status' | 'progress' | 'result' | 'error' | 'errors' | 'metrics', string> {
  return {
    status: outcome.status,
    progress: JSON.stringify(outcome.progress),
    result: JSON.stringify(outcome.result),
    error: JSON.stringify(outcome.error),
    errors: JSON.stringify(outcome.errors),
    metrics: JSON.stringify(outcome.metrics)
  }
}

/** The Lua scripts of RedisScanStore (src/store/lua/scan-*.lua), by the names of their KEYS and ARGV. */
export const SCAN_SCRIPTS = {
  create: luaCommand({
    file: 'scan-create',
    keys: ['scan', 'index', 'queued', 'tenantQueued'],
    args: ['id', 'maxQueued', 'maxQueuedPerTenant'],
    rest: 'fields',
    result: (reply) => reply as 1 | 2 | 0 | -1
  }),
  begin: luaCommand({
    file: 'scan-begin',
    keys: ['scan'],
    args: ['attempt', 'startedAt', 'progress', 'result', 'prefix', 'id', 'instance', 'deadInstance', 'maxRunningPerTenant'],
    result: (reply) => reply as [previous: string, cancel: string, crashes: number] | 'busy' | null
  }),
  release: luaCommand({ file: 'scan-release', keys: ['scan'], args: ['attempt'], result: done }),
  update: luaCommand({ file: 'scan-update', keys: ['scan'], args: ['attempt', 'progress', 'result'], result: done }),
  append: luaCommand({ file: 'scan-append', keys: ['scan', 'attemptPages'], args: ['attempt'], rest: 'pages', result: done }),
  finish: luaCommand({
    file: 'scan-finish',
    keys: ['scan', 'attemptPages'],
    args: ['attempt', 'status', 'finishedAt', 'expiresAt', 'retentionMs', 'progress', 'result', 'error', 'errors', 'metrics'],
    result: done
  }),
  abandon: luaCommand({
    file: 'scan-abandon',
    keys: ['scan'],
    args: ['finishedAt', 'expiresAt', 'retentionMs', 'error', 'prefix', 'id'],
    result: done
  }),
  cancel: luaCommand({
    file: 'scan-cancel',
    keys: ['scan'],
    args: ['finishedAt', 'expiresAt', 'retentionMs', 'error', 'prefix', 'id'],
    result: (reply) => reply as 'now' | 'signalled' | `finished:${string}` | null
  }),
  remove: luaCommand({
    file: 'scan-remove',
    keys: ['scan', 'index'],
    args: ['id', 'prefix'],
    result: (reply) => reply as ['removed' | 'active', string] | null
  })
}
