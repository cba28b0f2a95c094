import { luaCommand } from './lua-script.js'
import { done } from './scan-scripts.js'
const PARTITION_KEYS = ['scan', 'parts', 'log', 'rows', 'commits'] as const

/** The Lua scripts of RedisPartitionStore (src/store/lua/partition-*.lua, result-entry.lua), by the names of their KEYS and ARGV. */
export const PARTITION_SCRIPTS = {
  plan: luaCommand({ file: 'partition-plan', keys: ['scan'], args: ['attempt', 'partitions', 'mode', 'cap', 'total', 'progress'], result: done }),
  begin: luaCommand({
    file: 'partition-begin',
    keys: ['scan', 'parts'],
    args: ['part', 'attempt'],
    result: (reply) => reply as ['began', number] | ['committed' | 'cancelled' | 'gone']
  }),
  append: luaCommand({ file: 'partition-append', keys: ['scan', 'parts', 'attemptPages'], args: ['part', 'attempt'], rest: 'pages', result: done }),
  progress: luaCommand({ file: 'partition-progress', keys: ['scan', 'parts'], args: ['part', 'attempt', 'counts'], result: done }),
  commit: luaCommand({
    file: 'partition-commit',
    keys: ['scan', 'parts', 'log', 'commits'],
    args: ['part', 'attempt', 'count', 'counts', 'commit'],
    result: done
  }),
  finish: luaCommand({
    file: 'partition-finish',
    keys: PARTITION_KEYS,
    args: ['status', 'finishedAt', 'expiresAt', 'retentionMs', 'progress', 'result', 'error', 'errors', 'metrics'],
    rest: 'rowPages',
    result: done
  }),
  drop: luaCommand({ file: 'partition-drop', keys: PARTITION_KEYS, args: [], result: (reply) => Number(reply) }),
  resultEntry: luaCommand({
    file: 'result-entry',
    keys: ['scan', 'parts', 'log'],
    args: ['seq'],
    result: (reply) => reply as [part: number, admitted: number] | null
  })
}
