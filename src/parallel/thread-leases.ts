import { abortError, PoolClosedError } from './errors.js'
import { shareThreads } from './thread-shares.js'

/** Pool threads lent to one scan; give them back with release(). */
export interface ThreadLease {
  /** Pool thread indexes; the scan's slot i runs on threads[i]. Empty for a scan on the calling thread. */
  threads: number[]
  release: () => void
  /** An elastic lease: the scan stopped using `thread`, which goes back to the pool. */
  giveBack: (thread: number) => void
  /** An elastic lease: the scan can take and give back threads from now on. */
  ready: () => void
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
  group: unknown
  grant: (lease: ThreadLease) => void
}

interface Active {
  want: number
  elastic: ElasticScan | undefined
  group: unknown
  held: number
  /** Threads it was asked to give back and has not yet. */
  leaving: number
  /** It can take and give back threads (an elastic scan that is set up). */
  ready: boolean
  /** It could not take a thread (it is ending): it gets no more. */
  full: boolean
}

/**
 * Who may use which pool threads. Exclusive (the default): one scan at a
 * time, in the order they asked. Shared: scans run at once on disjoint sets
 * of threads (a scan on the calling thread needs none and never waits).
 * Each scan has a share group (its tenant); the threads are split equally
 * between the groups with scans, and a group's share between its scans
 * (shareThreads). A waiting scan gets free threads up to its share; elastic
 * scans above their share give threads back after their chunk while another
 * is below its own, and free threads go to the elastic scans below their
 * share, then to those below what they want. Waiting scans answer their
 * signal and the pool's close.
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
   * With `elastic` (shared pools only) the scan's threads may change while it runs. `group`: its
   * share group; by default a group of its own.
   */
  acquire (want: number, signal: AbortSignal | undefined, closing: AbortSignal, elastic?: ElasticScan, group: unknown = Symbol('scan')): Promise<ThreadLease> {
    if (closing.aborted) return Promise.reject(new PoolClosedError())
    if (signal?.aborted === true) return Promise.reject(abortError(signal.reason))
    return new Promise<ThreadLease>((resolve, reject) => {
      const waiter: Waiter = {
        want,
        elastic: this.#shared && want > 0 ? elastic : undefined,
        group,
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
    if (!this.#shared) {
      const first = this.#waiting[0]
      if (first !== undefined && this.#active.size === 0) {
        this.#waiting.shift()
        this.#grant(first, this.#free.splice(0, first.want).sort((a, b) => a - b))
      }
      return
    }
    for (const waiter of this.#waiting.filter((waiter) => waiter.want === 0)) {
      this.#waiting.splice(this.#waiting.indexOf(waiter), 1)
      this.#grant(waiter, [])
    }
    const active = [...this.#active].filter((scan) => scan.want > 0)
    const waiting = [...this.#waiting]
    const shares = shareThreads(this.#size, [
      ...active.map((scan) => ({ group: scan.group, want: scan.full || scan.elastic === undefined ? scan.held : scan.want, running: true })),
      ...waiting.map((waiter) => ({ group: waiter.group, want: waiter.want, running: false }))
    ])
    const target = new Map<Active, number>(active.map((scan, i) => [scan, shares[i]]))
    let short = false
    waiting.forEach((waiter, i) => {
      const share = shares[active.length + i]
      if (share === 0) return
      if (this.#free.length === 0) {
        short = true
        return
      }
      this.#waiting.splice(this.#waiting.indexOf(waiter), 1)
      const threads = this.#free.splice(0, waiter.elastic === undefined ? waiter.want : share).sort((a, b) => a - b)
      target.set(this.#grant(waiter, threads), share)
    })
    const elastic = [...target.keys()].filter((scan) => scan.elastic !== undefined)
    this.#give(elastic, (scan) => target.get(scan)! - scan.held)
    // Threads left over wait for a scan below its share that cannot take them yet (it is being set up).
    short ||= elastic.some((scan) => !scan.full && scan.held < target.get(scan)!)
    if (short && this.#free.length === 0) {
      for (const scan of elastic) {
        const over = scan.held - scan.leaving - target.get(scan)!
        if (scan.ready && over > 0) scan.leaving += scan.elastic!.shrink(over)
      }
    }
    if (!short) this.#give(elastic, (scan) => scan.want - scan.held)
  }

  /** Free threads, one at a time, to the ready scan of `scans` with the most `room` left while any has room. */
  #give (scans: Active[], room: (scan: Active) => number): void {
    while (this.#free.length > 0) {
      let best: Active | undefined
      for (const scan of scans) {
        if (scan.ready && !scan.full && scan.leaving === 0 && room(scan) > 0 && (best === undefined || room(scan) > room(best))) best = scan
      }
      if (best === undefined) return
      if (best.elastic!.grow(this.#free[0])) this.#free.shift()
      else best.full = true
    }
  }

  #grant (waiter: Waiter, threads: number[]): Active {
    const active: Active = { want: waiter.want, elastic: waiter.elastic, group: waiter.group, held: threads.length, leaving: 0, ready: waiter.elastic === undefined, full: false }
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
      },
      ready: () => {
        if (released || active.ready) return
        active.ready = true
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
    return active
  }
}
