import { Worker } from 'node:worker_threads'
import type { ThreadExit } from './scan-session-options.js'
import type { WorkerMessage } from './worker-protocol.js'

interface PoolThread {
  worker: Worker
  exited: boolean
  error?: Error & { code?: string }
}

export interface PoolThreadsOptions {
  /** Heap limit of every thread (resourceLimits.maxOldGenerationSizeMb). */
  maxOldGenerationMb: number
  onMessage: (slot: number, message: WorkerMessage) => void
  onExit: (slot: number, exit: ThreadExit) => void
}

/** Flags of the main process that make no sense for a worker thread (its code is a file, not -e text or stdin). */
const MAIN_ONLY_FLAGS = new Set(['--input-type', '-e', '--eval', '-p', '--print', '-c', '--check', '-i', '--interactive', '--test', '--watch', '--watch-path', '--watch-preserve-output'])
/** Of those, the ones whose value may come as the next argument. */
const TAKES_VALUE = new Set(['--input-type', '-e', '--eval', '-p', '--print', '--watch-path'])

/** The flags of `execArgv` that apply to worker threads: entry-point and process-only flags are left out. */
export function workerExecArgv (execArgv: readonly string[] = process.execArgv): string[] {
  const out: string[] = []
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i]
    const name = arg.startsWith('--') ? arg.split('=', 1)[0] : arg
    if (!MAIN_ONLY_FLAGS.has(name) && !name.startsWith('--test-')) {
      out.push(arg)
    } else if (TAKES_VALUE.has(name) && !arg.includes('=')) {
      i++
    }
  }
  return out
}

/**
 * `execArgv` without the flags a Worker refused (V8 and process-wide flags such as
 * --max-old-space-size, --expose-gc or --trace-gc), which its message lists after ': ',
 * joined by ', ' (a flag's value may hold ', ' too, so the list is matched against the
 * arguments, not split). A refused flag given without '=' loses the value that follows it:
 * execArgv holds flags and their values only, and a value left alone would end the worker's
 * flags there, silently dropping the ones after it. None at all when the message names none.
 */
export function withoutRefusedFlags (execArgv: readonly string[], error: Error): string[] {
  const message = error.message
  const colon = message.indexOf(': ')
  let list = colon < 0 ? '' : message.slice(colon + 2)
  const candidates = [...new Set(execArgv)].sort((a, b) => b.length - a.length)
  const refused = new Set<string>()
  while (list.length > 0) {
    const arg = candidates.find(a => list === a || list.startsWith(`${a}, `))
    if (arg === undefined) break
    refused.add(arg)
    list = list.slice(arg.length + 2)
  }
  const kept: string[] = []
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i]
    if (!refused.has(arg)) {
      kept.push(arg)
    } else if (arg.startsWith('-') && !arg.includes('=') && i + 1 < execArgv.length && !execArgv[i + 1].startsWith('-')) {
      i++
    }
  }
  return kept.length < execArgv.length ? kept : []
}

/**
 * The worker threads of a pool, by slot: each is made on first use, with
 * the flags that apply to workers and a heap limit, and replaced once it
 * has exited. Their messages and exits go to the callbacks.
 */
export class PoolThreads {
  readonly #options: PoolThreadsOptions
  readonly #threads: Array<PoolThread | undefined> = []
  #execArgv = workerExecArgv()

  constructor (options: PoolThreadsOptions) {
    this.#options = options
  }

  /** The live thread of `slot`, made now when there is none. */
  get (slot: number): Worker {
    const existing = this.#threads[slot]
    if (existing !== undefined && !existing.exited) return existing.worker
    const thread: PoolThread = { worker: this.#create(), exited: false }
    this.#threads[slot] = thread
    thread.worker.unref()
    thread.worker.on('message', (message: WorkerMessage) => {
      if (!thread.exited) this.#options.onMessage(slot, message)
    })
    thread.worker.on('error', (error: Error) => {
      thread.error = error
    })
    thread.worker.on('exit', (code: number) => {
      thread.exited = true
      if (this.#threads[slot] !== thread) return
      this.#threads[slot] = undefined
      const error = thread.error
      this.#options.onExit(slot, {
        reason: `thread exited with code ${code}${error !== undefined ? `: ${error.message}` : ''}`,
        outOfMemory: error?.code === 'ERR_WORKER_OUT_OF_MEMORY'
      })
    })
    return thread.worker
  }

  /** Ends the thread of `slot`, if it has one. */
  stop (slot: number): void {
    void this.#threads[slot]?.worker.terminate()
  }

  /** Lets the process exit while the thread idles. */
  unref (slot: number): void {
    this.#threads[slot]?.worker.unref()
  }

  async terminateAll (): Promise<void> {
    await Promise.all(this.#threads.map(async (thread) => await thread?.worker.terminate()))
    this.#threads.length = 0
  }

  /**
   * A worker stops reading its flags at the first one it refuses when that one has its value
   * apart, so the flags after it are only checked once it is gone: as many tries as it takes,
   * each with fewer flags.
   */
  #create (): Worker {
    for (;;) {
      try {
        return this.#construct()
      } catch (error) {
        if ((error as { code?: string }).code !== 'ERR_WORKER_INVALID_EXEC_ARGV' || this.#execArgv.length === 0) throw error
        this.#execArgv = withoutRefusedFlags(this.#execArgv, error as Error)
      }
    }
  }

  #construct (): Worker {
    const resourceLimits = { maxOldGenerationSizeMb: this.#options.maxOldGenerationMb }
    const here = import.meta.url
    if (here.endsWith('.ts')) {
      const entry = new URL('../../workers/pool-worker.ts', here).href
      const tsx = import.meta.resolve('tsx/esm/api')
      const code = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry)}) })`
      return new Worker(code, { eval: true, execArgv: this.#execArgv, resourceLimits })
    }
    return new Worker(new URL('../../workers/pool-worker.js', here), { execArgv: this.#execArgv, resourceLimits })
  }
}
