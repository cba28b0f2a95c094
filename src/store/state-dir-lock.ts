import { readFile, unlink } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { writeDurably } from './state-dir-files.js'

/** Who holds a state directory. */
interface Owner {
  pid: number
  host: string
  /** Linux boot id: a pid of another boot is no one. */
  boot?: string
  /** Start time of the process (clock ticks since boot): a pid reused by another process is not the owner. */
  start?: string
}

export interface StateDirLock {
  /** The last process that held the directory died without releasing it. */
  stale: boolean
  release(): Promise<void>
}

/** Thrown when another live process holds the directory. */
export class StateDirLockedError extends Error {}

function procText (path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim()
  } catch {
    return undefined
  }
}

/** Field 22 of /proc/<pid>/stat, after the command name (which may hold spaces). */
function startTime (pid: number): string | undefined {
  const stat = procText(`/proc/${pid}/stat`)
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
}

function me (): Owner {
  const boot = procText('/proc/sys/kernel/random/boot_id')
  const start = startTime(process.pid)
  return { pid: process.pid, host: hostname(), ...(boot === undefined ? {} : { boot }), ...(start === undefined ? {} : { start }) }
}

function alive (owner: Owner, self: Owner): boolean {
  if (owner.host !== self.host) return true
  if (owner.boot !== undefined && self.boot !== undefined && owner.boot !== self.boot) return false
  try {
    process.kill(owner.pid, 0)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false
  }
  return owner.start === undefined || startTime(owner.pid) === undefined || startTime(owner.pid) === owner.start
}

function parse (text: string): Owner | undefined {
  try {
    const owner = JSON.parse(text) as Owner
    return Number.isSafeInteger(owner.pid) && typeof owner.host === 'string' ? owner : undefined
  } catch {
    return undefined
  }
}

/**
 * Takes the lock file `path` for this process (its pid, host, boot and start time). A lock left
 * by a process that is gone is taken over (`stale`); one held by a live process throws
 * StateDirLockedError naming it. A process on another host cannot be checked: its lock holds.
 */
export async function lockStateDir (path: string): Promise<StateDirLock> {
  const self = me()
  const text = JSON.stringify(self) + '\n'
  let stale = false
  for (let tries = 0; ; tries++) {
    try {
      await writeDurably(path, text, true)
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || tries >= 3) throw error
    }
    const held = await readFile(path, 'utf8').catch(() => undefined)
    if (held === undefined) continue
    const owner = parse(held)
    if (owner !== undefined && alive(owner, self)) {
      throw new StateDirLockedError(`it is in use by process ${owner.pid} on ${owner.host} (lock file ${path}); stop that process or use another directory` +
        (owner.host === self.host ? '' : ', or remove the lock file if that process is gone'))
    }
    stale = true
    if (await readFile(path, 'utf8').catch(() => undefined) === held) await unlink(path).catch(() => {})
  }
  return {
    stale,
    release: async () => {
      if (await readFile(path, 'utf8').catch(() => undefined) === text) await unlink(path).catch(() => {})
    }
  }
}
