import { fork, type ChildProcess } from 'node:child_process'
import { ParallelConfig } from './parallel-config.js'
import { abortError } from './errors.js'
import type { MetricsEvent, ParallelConfigOptions, ResultBatch, ScanOptions, ScanSummary, ScanTask, StreamOptions } from './types.js'

const PROCESS = new URL('../../workers/isolated-pool-process.js', import.meta.url)

/** What the parent sends to start the one scan of an isolated process. */
export interface IsolatedRequest {
  type: 'start'
  total: number
  task: { module: string, params?: unknown }
  config: Required<ParallelConfigOptions>
  maxOldGenerationMb: number | undefined
  options: Omit<ScanOptions, 'config' | 'metrics' | 'signal'>
}

export type IsolatedParentMessage = IsolatedRequest | { type: 'ack', seq: number }

export type IsolatedChildMessage =
  | { type: 'metrics', event: MetricsEvent, data: unknown }
  | { type: 'batch', seq: number, batch: ResultBatch }
  | { type: 'done', summary: ScanSummary }
  | { type: 'failed', error: { code: string, message: string, offset?: number } }

/** The process that ran an isolated scan ended before the scan did (it was killed, exited or ran out of memory). */
export class IsolatedProcessExitError extends Error {
  /** How it ended, e.g. 'signal SIGKILL' or 'exit code 3'. */
  readonly exit: string
  constructor (exit: string) {
    super(`The process that ran the scan ended (${exit})`)
    this.exit = exit
  }
}

export interface IsolatedPoolOptions {
  /**
   * Heap limit of each worker thread of the process in MB.
   * @defaultValue the WorkStealingPool default
   */
  max_old_generation_mb?: number
}

/**
 * Runs each scan on a work-stealing pool in a child process of its own, started for the scan and
 * ended after it: whatever the scan does to its process (exit, a fatal signal, the heap), the
 * caller's process goes on, and the scan fails with IsolatedProcessExitError.
 */
export class IsolatedPool {
  readonly #options: IsolatedPoolOptions
  readonly #children = new Set<ChildProcess>()

  constructor (options: IsolatedPoolOptions = {}) {
    this.#options = options
  }

  async stream (total: number, task: ScanTask, options: StreamOptions): Promise<ScanSummary> {
    const { config, metrics, signal, onBatch, ...rest } = options
    signal?.throwIfAborted()
    const request: IsolatedRequest = {
      type: 'start',
      total,
      task: { module: task.module instanceof URL ? task.module.href : task.module, params: task.params },
      config: (config instanceof ParallelConfig ? config : new ParallelConfig(config)).toJSON(),
      maxOldGenerationMb: this.#options.max_old_generation_mb,
      options: rest
    }
    const child = fork(PROCESS, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    this.#children.add(child)
    try {
      return await new Promise<ScanSummary>((resolve, reject) => {
        let settled = false
        const settle = (end: () => void): void => {
          if (settled) return
          settled = true
          signal?.removeEventListener('abort', onAbort)
          end()
        }
        const stop = (error: unknown): void => settle(() => {
          child.kill('SIGKILL')
          reject(error)
        })
        const onAbort = (): void => stop(abortError(signal?.reason))
        signal?.addEventListener('abort', onAbort, { once: true })
        child.on('error', stop)
        child.on('exit', (code, exitSignal) => stop(new IsolatedProcessExitError(exitSignal !== null ? `signal ${exitSignal}` : `exit code ${String(code)}`)))
        child.on('message', (message: IsolatedChildMessage) => {
          if (settled) return
          if (message.type === 'metrics') {
            metrics?.(message.event, message.data as Parameters<NonNullable<ScanOptions['metrics']>>[1])
          } else if (message.type === 'batch') {
            Promise.resolve(onBatch(message.batch)).then(() => {
              if (!settled) child.send({ type: 'ack', seq: message.seq } satisfies IsolatedParentMessage)
            }, stop)
          } else if (message.type === 'done') {
            settle(() => resolve(message.summary))
          } else {
            stop(Object.assign(new Error(message.error.message), message.error))
          }
        })
        child.send(request)
      })
    } finally {
      this.#children.delete(child)
    }
  }

  /** Ends the processes of the scans still running. */
  async close (): Promise<void> {
    for (const child of this.#children) child.kill('SIGKILL')
  }
}
