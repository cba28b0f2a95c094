import { abortError, PoolClosedError } from './errors.js'

/** Pool threads lent to one scan; give them back with release(). */
export interface ThreadLease {
  /** Pool thread indexes; the scan's slot i runs on threads[i]. Empty for a scan on the calling thread. */
  threads: number[]
  release: () => void
  /** An elastic lease: the scan stopped using `thread`, which goes back to the pool. */
  giveBack: (thread: number) => void
}

/** What an elastic lease does when the pool moves threads: shares between the scans that run change. */
export interface ElasticScan {
  /** Take `thread` as well; false when the scan cannot use it (it is ending, or has a thread in every slot). */
  grow: (thread: number) => boolean
  /** Give back up to `count` threads after their chunk (giveBack tells when); returns how many will come. */
  shrink: (count: number) => number
}

interface Waiter {
  want: number
  elastic: ElasticScan | undefined
  grant: (lease: ThreadLease) => void
}

interface Active {
  want: number
  elastic: ElasticScan | undefined
  held: number
  /** Threads it was asked to give back and has not yet. */
  leaving: number
}

/**
 * Who may use which pool threads. Exclusive (the default): one scan at a
 * time, in the order they asked. Shared: scans run at once on disjoint sets
 * of threads; the first in line gets the free threads as soon as one is free
 * (a scan on the calling thread needs none and never waits). Elastic scans
 * share the threads equally: one alone gets every thread it wants; when
 * another scan waits and no thread is free, those above an equal share give
 * threads back after their chunk, and threads freed later go to the
 * elastic scans below what they want, fewest first. Waiting scans answer
 * their signal and the pool's close.
 */
export class ThreadLeases {
  readonly #size: number
  readonly #free: number[]
  readonly #shared: boolean
  readonly #waiting: Waiter[] = []
  readonly #active = new Set<Active>()

  constructor (size: number, shared: boolean) {
    this.#size = size
    this.#free = Array.from({ length: size }, (_, i) => i)
    this.#shared = shared
  }

  /**
   * Resolves to a lease of up to `want` threads; rejects when `signal` aborts or `closing` does first.
   * With `elastic` (shared pools only) the scan's threads may change while it runs.
   */
  acquire (want: number, signal: AbortSignal | undefined, closing: AbortSignal, elastic?: ElasticScan): Promise<ThreadLease> {
    if (closing.aborted) return Promise.reject(new PoolClosedError())
    if (signal?.aborted === true) return Promise.reject(abortError(signal.reason))
    return new Promise<ThreadLease>((resolve, reject) => {
      const waiter: Waiter = {
        want,
        elastic: this.#shared && want > 0 ? elastic : undefined,
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

  /** Looks again at who should hold which threads (e.g. once a scan that got threads can give some back). */
  rebalance (): void {
    this.#dispatch()
  }

  /** Threads each scan gets when they share equally. */
  #share (): number {
    const scans = this.#active.size + this.#waiting.filter((waiter) => waiter.want > 0).length
    return Math.max(1, Math.floor(this.#size / Math.max(1, scans)))
  }

  #dispatch (): void {
    for (let i = 0; i < this.#waiting.length;) {
      const waiter = this.#waiting[i]
      let threads: number[] | undefined
      if (!this.#shared) {
        if (i === 0 && this.#active.size === 0) threads = this.#free.splice(0, waiter.want).sort((a, b) => a - b)
      } else if (waiter.want === 0) {
        threads = []
      } else if (i === this.#firstWanting() && this.#free.length > 0) {
        const take = waiter.elastic === undefined ? waiter.want : Math.min(waiter.want, this.#share())
        threads = this.#free.splice(0, take).sort((a, b) => a - b)
      }
      if (threads === undefined) {
        i++
        continue
      }
      this.#waiting.splice(i, 1)
      this.#grant(waiter, threads)
    }
    if (!this.#shared) return
    if (this.#firstWanting() >= 0) {
      if (this.#free.length === 0) this.#reclaim()
      return
    }
    this.#spread()
  }

  #grant (waiter: Waiter, threads: number[]): void {
    const active: Active = { want: waiter.want, elastic: waiter.elastic, held: threads.length, leaving: 0 }
    this.#active.add(active)
    const mine = new Set(threads)
    let released = false
    waiter.grant({
      threads,
      release: () => {
        if (released) return
        released = true
        this.#active.delete(active)
        this.#free.push(...mine)
        this.#free.sort((a, b) => a - b)
        this.#dispatch()
      },
      giveBack: (thread) => {
        if (released || !mine.delete(thread)) return
        active.held--
        if (active.leaving > 0) active.leaving--
        this.#free.push(thread)
        this.#free.sort((a, b) => a - b)
        this.#dispatch()
      }
    })
    const grow = active.elastic?.grow
    if (grow !== undefined) {
      // Threads the scan took later are its own too: the lease gives them back with the others.
      active.elastic = {
        grow: (thread) => {
          if (released || !grow(thread)) return false
          mine.add(thread)
          active.held++
          return true
        },
        shrink: waiter.elastic!.shrink
      }
    }
  }

  /** A scan waits and no thread is free: elastic scans above an equal share give some back. */
  #reclaim (): void {
    const share = this.#share()
    for (const active of this.#active) {
      const over = active.held - active.leaving - share
      if (active.elastic !== undefined && over > 0) active.leaving += active.elastic.shrink(over)
    }
  }

  /** Nobody waits: free threads go to elastic scans below what they want, fewest first. */
  #spread (): void {
    const takers = [...this.#active].filter((active) => active.elastic !== undefined)
    while (this.#free.length > 0) {
      const open = takers.filter((active) => active.held < active.want && active.leaving === 0)
      if (open.length === 0) return
      open.sort((a, b) => a.held - b.held)
      const thread = this.#free[0]
      if (!open[0].elastic!.grow(thread)) {
        takers.splice(takers.indexOf(open[0]), 1)
        continue
      }
      this.#free.shift()
    }
  }

  /** Index of the first waiter that needs threads. */
  #firstWanting (): number {
    return this.#waiting.findIndex(waiter => waiter.want > 0)
  }
}
