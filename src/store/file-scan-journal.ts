import { readFile, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import type { ScanRequest } from '../../schemas/scan-request.js'
import type { ScanChange, ScanJournal, StoredScan } from './scan-journal.js'
import type { ResultPages } from './result-pages.js'
import { appendDurably, stateDirError, syncDir, writeDurably } from './state-dir-files.js'

export interface FileScanJournalOptions {
  /** The directory of the scans' files. Required. */
  dir: string
  /** Names the state directory in errors. Required. */
  label: string
  /** The pages `seal` names. Required. */
  pages: ResultPages
  /**
   * Runs last when the journal closes (the directory's lock is released).
   * @defaultValue nothing
   */
  onClose?: () => Promise<void>
}

/**
 * One journal file per scan (`<id>.jsonl`, a line per change, each durable before the store
 * answers) beside its request (`<id>.request.json`). When a scan ends, the whole scan is appended
 * and the journal is rewritten as that one line (a temporary file renamed over it).
 */
export class FileScanJournal implements ScanJournal {
  readonly #options: FileScanJournalOptions
  /** Writes of each scan, in order. */
  readonly #chains = new Map<string, Promise<unknown>>()

  constructor (options: FileScanJournalOptions) {
    this.#options = options
  }

  #path (id: string, suffix: string): string {
    return join(this.#options.dir, `${id}${suffix}`)
  }

  async #run<T>(id: string, what: string, task: () => Promise<T>): Promise<T> {
    const run = (this.#chains.get(id) ?? Promise.resolve()).then(task).catch((error: unknown) => { throw stateDirError(this.#options.label, what, error) })
    const settled = run.catch(() => {})
    this.#chains.set(id, settled)
    void settled.then(() => { if (this.#chains.get(id) === settled) this.#chains.delete(id) })
    return await run
  }

  async created (scan: StoredScan, request: ScanRequest): Promise<void> {
    const id = scan.record.id
    const line = JSON.stringify({ t: 'scan', scan }) + '\n'
    const text = JSON.stringify(request)
    await this.#run(id, 'cannot store the scan', async () => {
      await writeDurably(this.#path(id, '.request.json'), text)
      await writeDurably(this.#path(id, '.jsonl'), line, true)
      await syncDir(this.#options.dir)
    })
  }

  async changed (id: string, change: ScanChange, seal: string[] = []): Promise<void> {
    const line = JSON.stringify(change) + '\n'
    await this.#run(id, 'cannot store a change of the scan', async () => {
      for (const name of seal) await this.#options.pages.seal(name)
      await appendDurably(this.#path(id, '.jsonl'), line)
    })
  }

  async ended (scan: StoredScan, seal: string[] = []): Promise<void> {
    const id = scan.record.id
    const line = JSON.stringify({ t: 'scan', scan }) + '\n'
    await this.#run(id, 'cannot store the end of the scan', async () => {
      for (const name of seal) await this.#options.pages.seal(name)
      await appendDurably(this.#path(id, '.jsonl'), line)
      await this.#compact(id, line).catch(() => {})
    })
  }

  /** Rewrites the journal as its last line (it holds the whole scan); the longer journal stays if that fails. */
  async #compact (id: string, line: string): Promise<void> {
    const temporary = this.#path(id, '.jsonl.tmp')
    try {
      await writeDurably(temporary, line)
      await rename(temporary, this.#path(id, '.jsonl'))
      await syncDir(this.#options.dir)
    } catch (error) {
      await unlink(temporary).catch(() => {})
      throw error
    }
  }

  async removed (id: string): Promise<void> {
    await this.#run(id, 'cannot remove the scan', async () => {
      await unlink(this.#path(id, '.jsonl')).catch(ignoreMissing)
      await syncDir(this.#options.dir)
      await unlink(this.#path(id, '.request.json')).catch(ignoreMissing)
    })
  }

  async request (id: string): Promise<ScanRequest | undefined> {
    try {
      return JSON.parse(await readFile(this.#path(id, '.request.json'), 'utf8')) as ScanRequest
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw stateDirError(this.#options.label, 'cannot read the request of the scan', error)
    }
  }

  async close (): Promise<void> {
    await Promise.all([...this.#chains.values()])
    await this.#options.onClose?.()
  }
}

function ignoreMissing (error: NodeJS.ErrnoException): void {
  if (error.code !== 'ENOENT') throw error
}
