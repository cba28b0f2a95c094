import { readdir, readFile, unlink } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { InvalidConfigError } from '../errors.js'
import { MemoryScanStore } from './memory-scan-store.js'
import { FileResultPages } from './file-result-pages.js'
import { FileScanJournal } from './file-scan-journal.js'
import { replayScanJournal } from './replay-scan-journal.js'
import { lockStateDir, StateDirLockedError, type StateDirLock } from './state-dir-lock.js'
import { makeDirectory, syncDir, writeDurably } from './state-dir-files.js'
import { FINISHED_STATUSES } from './scan-record.js'
import type { StoredScan } from './scan-journal.js'

export interface StateDirOptions {
  /** The directory; created when missing. Required. */
  dir: string
  /**
   * The variable that named it, for errors.
   * @defaultValue 'PARASCAN_STATE_DIR'
   */
  variable?: string
  /**
   * How long finished scans are kept (ms).
   * @defaultValue 24 h
   */
  retentionMs?: number
  /**
   * Times a partition may be lost (its process died while it ran) before its scan is given up on.
   * @defaultValue 3
   */
  maxLostRuns?: number
}

const FORMAT = 'parascan-state 1\n'
const SCAN_FILE = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(\.jsonl|\.jsonl\.tmp|\.request\.json|\.(.+)\.pages)$/

/**
 * The embedded store on a state directory: `format` (what the directory is), `lock` (the pid of
 * the process that holds it) and `scans/` (each scan's journal, request and result pages). Replays
 * every journal, drops what expired or was never committed, and gives back what has to run again
 * (`store.recovered`). Anything that keeps it from starting is an InvalidConfigError naming the variable.
 */
export async function openStateDir (options: StateDirOptions): Promise<MemoryScanStore> {
  const variable = options.variable ?? 'PARASCAN_STATE_DIR'
  const dir = resolve(options.dir)
  const fail = (message: string): never => { throw new InvalidConfigError(variable, `${dir}: ${message}`) }
  const label = `${variable} (${dir})`
  await prepare(dir).catch((error: Error) => fail(error.message))
  let lock: StateDirLock
  try {
    lock = await lockStateDir(join(dir, 'lock'))
  } catch (error) {
    return fail(error instanceof StateDirLockedError ? error.message : `cannot take its lock: ${(error as Error).message}`)
  }
  const scansDir = join(dir, 'scans')
  const pages = new FileResultPages(scansDir, label)
  const journal = new FileScanJournal({ dir: scansDir, label, pages, onClose: lock.release })
  const store = new MemoryScanStore({ retentionMs: options.retentionMs, journal, pages })
  try {
    const files = await readdir(scansDir)
    const scans = await replay(scansDir, files)
    store.recovered = await store.restore(scans, lock.stale, options.maxLostRuns ?? 3)
    await collect(scansDir, files, store)
    await syncDir(scansDir)
  } catch (error) {
    await store.close().catch(() => {})
    return fail((error as Error).message)
  }
  return store
}

async function prepare (dir: string): Promise<void> {
  await makeDirectory(dir)
  const format = await readFile(join(dir, 'format'), 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined
    throw error
  })
  if (format === undefined) {
    const present = await readdir(dir)
    if (present.length > 0) throw new Error(`not a state directory of this service (it holds ${present.slice(0, 3).join(', ')}${present.length > 3 ? ', …' : ''} and no \`format\` file); name an empty or new directory`)
    await makeDirectory(join(dir, 'scans'))
    await writeDurably(join(dir, 'format'), FORMAT)
    await syncDir(dir)
  } else if (format !== FORMAT) {
    throw new Error(`its \`format\` file says ${JSON.stringify(format.trim())}, not ${JSON.stringify(FORMAT.trim())}: it was written by another version of this service`)
  }
  await makeDirectory(join(dir, 'scans'))
}

/** Journals replayed at a time. */
const REPLAY_BATCH = 64

async function replay (dir: string, files: string[]): Promise<StoredScan[]> {
  const requests = new Set(files.filter((file) => file.endsWith('.request.json')).map((file) => file.slice(0, 36)))
  const journals = files.filter((file) => SCAN_FILE.exec(file)?.[2] === '.jsonl')
  const scans: StoredScan[] = []
  for (let i = 0; i < journals.length; i += REPLAY_BATCH) {
    scans.push(...(await Promise.all(journals.slice(i, i + REPLAY_BATCH).map(async (file) => {
      const id = file.slice(0, 36)
      const scan = await replayScanJournal(join(dir, file), id)
      if (scan === undefined) {
        await unlink(join(dir, file))
        return []
      }
      if (!FINISHED_STATUSES.has(scan.record.status) && !requests.has(id)) throw new Error(`scan ${id} is ${scan.record.status} but its request (${id}.request.json) is missing`)
      return [scan]
    }))).flat())
  }
  return scans
}

/** Removes files no scan needs (pages of attempts that did not commit, requests of scans never accepted, temporary files); a page file a scan needs must be there. */
async function collect (dir: string, files: string[], store: MemoryScanStore): Promise<void> {
  const needed = store.pageNames()
  const present = new Set(files)
  for (const [name, required] of needed) {
    if (required && !present.has(`${name}.pages`)) throw new Error(`the results of scan ${name.slice(0, 36)} (${name}.pages) are missing`)
  }
  for (const file of files) {
    const match = SCAN_FILE.exec(file)
    if (match === null) continue
    const [, id, suffix, name] = match
    const kept = name !== undefined ? needed.has(`${id}.${name}`) : suffix === '.request.json' ? await store.get(id) !== undefined : suffix === '.jsonl'
    if (!kept) await unlink(join(dir, file)).catch(() => {})
  }
}
