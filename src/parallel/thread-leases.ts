import { abortError, PoolClosedError } from './errors.js'

/** Pool threads lent to one scan; give them back with release(). */
export interface ThreadLease {
  /** Pool thread indexes; the scan's slot i runs on threads[i]. Empty for a scan on the calling thread. */
  threads: number[]
  release: () => void
}

interface Waiter {
  want: number
  grant: (lease: ThreadLease) => void
}

/**
 * Who may use which pool threads. Exclusive (the default): one scan at a
 * time, in the order they asked. Shared: scans run at once on disjoint sets
 * of threads; the first in line gets the free threads, as many as it asks
 * for, as soon as one is free (a scan on the calling thread needs none and
 * never waits). Waiting scans answer their signal and the pool's close.
 */
export class ThreadLeases {
  readonly #free: number[]
  readonly #shared: boolean
  readonly #waiting: Waiter[] = []
  #active = 0

  constructor (size: number, shared: boolean) {
    this.#free = Array.from({ length: size }, (_, i) => i)
    this.#shared = shared
  }

  /** Resolves to a lease of up to `want` threads; rejects when `signal` aborts or `closing` does first. */
  acquire (want: number, signal: AbortSignal | undefined, closing: AbortSignal): Promise<ThreadLease> {
    if (closing.aborted) return Promise.reject(new PoolClosedError())
    if (signal?.aborted === true) return Promise.reject(abortError(signal.reason))
    return new Promise<ThreadLease>((resolve, reject) => {
      const waiter: Waiter = {
        want,
        grant: (lease) => {
          done()
          resolve(lease)
        }
      }
      const onStop = (): void => {
        done()
        const at = this.#waiting.indexOf(waiter)
        if (at >= 0) this.#waiting.splice(at, 1)
        reject(closing.aborted ? new PoolClosedError() : abortError(signal?.reason))
        this.#dispatch()
      }
      const done = (): void => {
        closing.removeEventListener('abort', onStop)
        signal?.removeEventListener('abort', onStop)
      }
      closing.addEventListener('abort', onStop, { once: true })
      signal?.addEventListener('abort', onStop, { once: true })
      this.#waiting.push(waiter)
      this.#dispatch()
    })
  }

  #dispatch (): void {
    for (let i = 0; i < this.#waiting.length;) {
      const waiter = this.#waiting[i]
      let threads: number[] | undefined
      if (!this.#shared) {
        if (i === 0 && this.#active === 0) threads = this.#free.splice(0, waiter.want).sort((a, b) => a - b)
      } else if (waiter.want === 0) {
        threads = []
      } else if (i === this.#firstWanting() && this.#free.length > 0) {
        threads = this.#free.splice(0, waiter.want).sort((a, b) => a - b)
      }
      if (threads === undefined) {
        i++
        continue
      }
      this.#waiting.splice(i, 1)
      this.#active++
      let released = false
      waiter.grant({
        threads,
        release: () => {
          if (released) return
          released = true
          this.#active--
          this.#free.push(...threads)
          this.#free.sort((a, b) => a - b)
          this.#dispatch()
        }
      })
    }
  }

  /** Index of the first waiter that needs threads. */
  #firstWanting (): number {
    return this.#waiting.findIndex(waiter => waiter.want > 0)
  }
}
