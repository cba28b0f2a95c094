/*
 * Longer than the other engine files on purpose: it is the one layout of the
 * memory the threads of a scan share, and every word of it is read and
 * written only through this class.
 */
import type { LiveHistogram, WorkerProgress } from './types.js'

/** Int32 slots per 128-byte line: every hot word gets its own line. */
const LINE = 32
const RING_ENTRIES = 1024
/** Ranges a deque can hold. */
export const DEQUE_CAPACITY = RING_ENTRIES
const RING_MASK = RING_ENTRIES - 1
const GLOBAL_LINES = 11
/** Buckets of each live histogram: 8 per power of two from 2^-16 up. */
export const LIVE_BUCKETS = 512
const LIVE_SUB_BUCKETS = 8
/** Attempts at a consistent read of a thread's live figures while it books chunks. */
const MAX_LIVE_READS = 8
/** top, bottom, stats, current range (lo, hi, lock), held line, two live histograms, then the ring. */
const WORKER_LINES = 5 + (2 * LIVE_BUCKETS) / LINE + (RING_ENTRIES * 2) / LINE

const ABORT = 0
const HUNGRY = 1 * LINE
const EPOCH = 2 * LINE
const SLEEPERS = 3 * LINE
const REMAINING = 4 * LINE
const STARTED = 5 * LINE
const WAKES = 6 * LINE
const CURSOR = 7 * LINE
/** Ordered scans: every record below it was handed over in order (a page's onBatch resolved). */
const FRONT = 8 * LINE
/** Bytes of JSON posted by threads and not yet handed over (a BigInt64 slot): the ordered window's, or unordered scans' bound. */
const HELD_BYTES = (9 * LINE) >> 1
/** Bytes of JSON posted by threads and not yet received by the calling thread (a BigInt64 slot). */
const TRANSIT_BYTES = (10 * LINE) >> 1

/** Per-worker counters on the worker's stats line, written only by that worker. */
export const STAT_PROCESSED = 0
export const STAT_MATCHED = 1
export const STAT_SKIPPED = 2
/** Records whose results were posted to the main thread. */
export const STAT_POSTED = 3
/** 1 while the worker sleeps in Atomics.wait. */
export const STAT_PARKED = 4
/*
 * Live figures: only ever added to during a scan (by the slot's thread and
 * its replacements), so the calling thread can read them at any time.
 */
const STAT_CHUNKS = 5
const STAT_STEALS_TRIED = 6
const STAT_STEALS_WON = 7
const STAT_CONTENTION = 8
const STAT_LOCK_WAIT_US = 9
/** Float64 slots on the stats line (Int32 index / 2): chunk time in ns, chunk records. */
const STAT_CHUNK_NS = 16
const STAT_CHUNK_RECORDS = 18

/** 1 + the offset of the record inside process() (0 between chunks): the main thread times records by it. */
export const STAT_RECORD = 10
/** 1 while the main thread asks the worker to give its thread back after its chunk (its ranges stay for thieves). */
export const STAT_YIELD = 11
/** 1 while no thread holds the slot (written by the main thread under the slot's range lock): others may adopt its ranges. */
const STAT_IDLE = 12
/** Bytes of results the slot's threads counted in transit that the calling thread has not received yet. */
const STAT_TRANSIT = 13

/*
 * The held line of a worker: the records it started and has not committed
 * (records not started are in its current range and deque), so that the main
 * thread can hand exactly those to others when the worker dies: the chunk
 * [runLo, runHi) it runs, and batch pairs, [from, to) ranges processed and
 * not yet posted.
 */
const HELD_RUN_LO = 0
const HELD_RUN_HI = 1
const HELD_PAIRS = 3
const HELD_PAIR0 = 4
/** Batch ranges a worker may hold before it must post them. */
export const MAX_HELD_PAIRS = (LINE - HELD_PAIR0) >> 1

/** Outcomes of pop, steal and claim: a range was taken into takenOffset/takenCount... */
export const TAKE_WON = 1
/** ...there was nothing to take... */
export const TAKE_EMPTY = 0
/** ...or another thread won the race for it. */
export const TAKE_LOST = 2

/**
 * The memory the threads of a pool share during a scan: global words
 * (abort flag, hungry and sleeper counts, wake epoch, remaining and started
 * records, the thread_pool cursor) and, per worker, a Chase-Lev deque of
 * [offset, count] ranges in a fixed ring, the worker's counters, and its
 * current range: the records not yet started, [lo, hi), where the owner
 * moves lo and thieves move hi (Cilk's THE protocol: the owner's fast path
 * is a store and a load, a thief holds the range's lock, conflicts go
 * through the lock). The owner pushes and pops the deque bottom; thieves
 * CAS the top. JS Atomics are sequentially consistent, so both textbook
 * algorithms need no fences.
 */
export class SharedScanState {
  static bytesFor (workers: number): number {
    return (GLOBAL_LINES + workers * WORKER_LINES) * LINE * 4
  }

  readonly buffer: SharedArrayBuffer
  readonly workers: number
  readonly i32: Int32Array
  /** 64-bit view for counters that may pass 2^31. */
  readonly #i64: BigInt64Array
  readonly #f64: Float64Array
  /** Offset and count of the range taken by the last successful pop or steal. */
  takenOffset = 0
  takenCount = 0

  constructor (buffer: SharedArrayBuffer, workers: number) {
    this.buffer = buffer
    this.workers = workers
    this.i32 = new Int32Array(buffer)
    this.#i64 = new BigInt64Array(buffer)
    this.#f64 = new Float64Array(buffer)
  }

  reset (): void {
    this.i32.fill(0)
  }

  #base (w: number): number {
    return (GLOBAL_LINES + w * WORKER_LINES) * LINE
  }

  #top (w: number): number { return this.#base(w) }
  #bottom (w: number): number { return this.#base(w) + LINE }
  stat (w: number, field: number): number { return this.#base(w) + 2 * LINE + field }
  #lo (w: number): number { return this.#base(w) + 3 * LINE }
  #hi (w: number): number { return this.#base(w) + 3 * LINE + 1 }
  #lock (w: number): number { return this.#base(w) + 3 * LINE + 2 }
  #held (w: number): number { return this.#base(w) + 4 * LINE }
  #histogram (w: number, which: 0 | 1): number { return this.#base(w) + 5 * LINE + which * LIVE_BUCKETS }
  #ring (w: number): number { return this.#base(w) + 5 * LINE + 2 * LIVE_BUCKETS }

  get aborted (): boolean { return Atomics.load(this.i32, ABORT) !== 0 }
  abort (): void {
    Atomics.store(this.i32, ABORT, 1)
    this.wakeAll()
  }

  /** Ordered scans: the records below it have been handed over in order. */
  get front (): number { return Atomics.load(this.i32, FRONT) }
  /** JSON bytes posted and not yet handed over. */
  get heldBytes (): number { return Number(Atomics.load(this.#i64, HELD_BYTES)) }
  /** A thread: `bytes` of results are on their way to the calling thread. */
  addHeldBytes (bytes: number): void { Atomics.add(this.#i64, HELD_BYTES, BigInt(bytes)) }

  /** Calling thread, unordered scans: `bytes` of results were handed over; wakes the threads waiting for room. */
  releaseBytes (bytes: number): void {
    Atomics.sub(this.#i64, HELD_BYTES, BigInt(bytes))
    Atomics.notify(this.#i64, HELD_BYTES)
  }

  /** A thread of an unordered scan: sleeps until the held bytes move from `held` (or the abort, or `timeoutMs`). */
  waitHeld (held: number, timeoutMs: number): void {
    Atomics.wait(this.#i64, HELD_BYTES, BigInt(held), timeoutMs)
  }

  /** JSON bytes posted and not yet received by the calling thread. */
  get transitBytes (): number { return Number(Atomics.load(this.#i64, TRANSIT_BYTES)) }
  /** The thread of slot `w`: it posts `bytes` of results. */
  addTransitBytes (w: number, bytes: number): void {
    Atomics.add(this.i32, this.stat(w, STAT_TRANSIT), bytes)
    Atomics.add(this.#i64, TRANSIT_BYTES, BigInt(bytes))
  }

  /** Calling thread: a message of slot `w` with `bytes` of results came in (they leave the transit with receivedBytes). */
  receivedFrom (w: number, bytes: number): void { Atomics.sub(this.i32, this.stat(w, STAT_TRANSIT), bytes) }

  /** Calling thread: `bytes` of results received leave the transit; wakes the threads waiting to post. */
  receivedBytes (bytes: number): void {
    Atomics.sub(this.#i64, TRANSIT_BYTES, BigInt(bytes))
    Atomics.notify(this.#i64, TRANSIT_BYTES)
  }

  /**
   * Calling thread, once the thread of slot `w` has exited (after its last message came in):
   * what it counted in transit and never posted, when it was ended between the two, leaves the
   * transit, which would otherwise never empty again.
   */
  dropTransit (w: number): void {
    const lost = Atomics.exchange(this.i32, this.stat(w, STAT_TRANSIT), 0)
    if (lost !== 0) this.receivedBytes(lost)
  }

  /** A thread: sleeps until the bytes in transit move from `transit` (or the abort, or `timeoutMs`). */
  waitTransit (transit: number, timeoutMs: number): void {
    Atomics.wait(this.#i64, TRANSIT_BYTES, BigInt(transit), timeoutMs)
  }

  /** Calling thread: records below `front` and `bytes` more were handed over; wakes the threads waiting for the window. */
  release (front: number, bytes: number): void {
    if (bytes !== 0) Atomics.sub(this.#i64, HELD_BYTES, BigInt(bytes))
    Atomics.store(this.i32, FRONT, front)
    Atomics.notify(this.i32, FRONT)
  }


  /** A thread ahead of the ordered window: sleeps until the front moves from `front` (or the abort, or `timeoutMs`). */
  waitFront (front: number, timeoutMs: number): void {
    Atomics.wait(this.i32, FRONT, front, timeoutMs)
  }

  get hungry (): number { return Atomics.load(this.i32, HUNGRY) }
  addHungry (delta: number): void { Atomics.add(this.i32, HUNGRY, delta) }

  get remaining (): number { return Atomics.load(this.i32, REMAINING) }
  setRemaining (value: number): void { Atomics.store(this.i32, REMAINING, value) }
  /** Subtracts committed records; wakes every sleeper when it reaches zero. */
  commit (records: number): void {
    if (records === 0) return
    if (Atomics.sub(this.i32, REMAINING, records) === records) this.wakeAll()
  }

  /** Adds to the records-started counter (64 bits wide: re-runs cannot wrap it). */
  addStarted (records: number): void { Atomics.add(this.#i64, STARTED >> 1, BigInt(records)) }
  get started (): number { return Number(Atomics.load(this.#i64, STARTED >> 1)) }

  /**
   * thread_pool: claims up to `records` records at the shared cursor into
   * takenOffset/takenCount. Returns TAKE_WON, TAKE_EMPTY when the cursor
   * reached `total`, or TAKE_LOST when another thread moved it first.
   */
  claim (total: number, records: number): number {
    const at = Atomics.load(this.i32, CURSOR)
    if (at >= total) return TAKE_EMPTY
    const count = Math.min(records, total - at)
    if (Atomics.compareExchange(this.i32, CURSOR, at, at + count) !== at) return TAKE_LOST
    this.takenOffset = at
    this.takenCount = count
    return TAKE_WON
  }

  get cursor (): number { return Atomics.load(this.i32, CURSOR) }

  get wakes (): number { return Atomics.load(this.i32, WAKES) }

  depth (w: number): number {
    const d = Atomics.load(this.i32, this.#bottom(w)) - Atomics.load(this.i32, this.#top(w))
    return d > 0 ? d : 0
  }

  totalDepth (): number {
    let sum = 0
    for (let w = 0; w < this.workers; w++) sum += this.depth(w)
    return sum
  }

  /** Owner only (or the main thread while the owner does not run). */
  push (w: number, offset: number, count: number): void {
    const b = Atomics.load(this.i32, this.#bottom(w))
    const slot = this.#ring(w) + ((b & RING_MASK) << 1)
    Atomics.store(this.i32, slot, offset)
    Atomics.store(this.i32, slot + 1, count)
    Atomics.store(this.i32, this.#bottom(w), b + 1)
  }

  /** Tells sleepers that there is new work; notifies only when someone sleeps. */
  signalWork (): void {
    Atomics.add(this.i32, EPOCH, 1)
    if (Atomics.load(this.i32, SLEEPERS) > 0) Atomics.notify(this.i32, EPOCH, 1)
  }

  /** Wakes every sleeper: those waiting for work, on the ordered window, for room for results or to post them. */
  wakeAll (): void {
    Atomics.add(this.i32, EPOCH, 1)
    Atomics.notify(this.i32, EPOCH)
    Atomics.notify(this.i32, FRONT)
    Atomics.notify(this.#i64, HELD_BYTES)
    Atomics.notify(this.#i64, TRANSIT_BYTES)
  }

  /**
   * Owner only. Takes the bottom range into takenOffset/takenCount: TAKE_WON,
   * TAKE_EMPTY, or TAKE_LOST when a thief won the race for the last range.
   */
  pop (w: number): number {
    const bottom = this.#bottom(w)
    const top = this.#top(w)
    const b = Atomics.load(this.i32, bottom) - 1
    Atomics.store(this.i32, bottom, b)
    const t = Atomics.load(this.i32, top)
    if (t > b) {
      Atomics.store(this.i32, bottom, b + 1)
      return TAKE_EMPTY
    }
    const slot = this.#ring(w) + ((b & RING_MASK) << 1)
    this.takenOffset = Atomics.load(this.i32, slot)
    this.takenCount = Atomics.load(this.i32, slot + 1)
    if (t < b) return TAKE_WON
    const won = Atomics.compareExchange(this.i32, top, t, t + 1) === t
    Atomics.store(this.i32, bottom, b + 1)
    return won ? TAKE_WON : TAKE_LOST
  }

  /** Takes the top range of `victim`: TAKE_WON, TAKE_EMPTY, or TAKE_LOST when a CAS failed. */
  steal (victim: number): number {
    const top = this.#top(victim)
    const t = Atomics.load(this.i32, top)
    const b = Atomics.load(this.i32, this.#bottom(victim))
    if (t >= b) return TAKE_EMPTY
    const slot = this.#ring(victim) + ((t & RING_MASK) << 1)
    const offset = Atomics.load(this.i32, slot)
    const count = Atomics.load(this.i32, slot + 1)
    if (Atomics.compareExchange(this.i32, top, t, t + 1) !== t) return TAKE_LOST
    this.takenOffset = offset
    this.takenCount = count
    return TAKE_WON
  }

  /** First record of `w`'s current range not yet started. */
  rangeLo (w: number): number { return Atomics.load(this.i32, this.#lo(w)) }
  /** End of `w`'s current range; thieves lower it. */
  rangeHi (w: number): number { return Atomics.load(this.i32, this.#hi(w)) }

  #acquireLock (w: number): void {
    while (Atomics.compareExchange(this.i32, this.#lock(w), 0, 1) !== 0) { /* a thief holds it for a few loads and stores */ }
  }

  #releaseLock (w: number): void { Atomics.store(this.i32, this.#lock(w), 0) }

  /** Owner (or the calling thread while the owner is gone): makes [lo, hi) the current range; returns what was left of the old one. */
  setRange (w: number, lo: number, hi: number): [number, number] {
    this.#acquireLock(w)
    const left: [number, number] = [Atomics.load(this.i32, this.#lo(w)), Atomics.load(this.i32, this.#hi(w))]
    Atomics.store(this.i32, this.#lo(w), lo)
    Atomics.store(this.i32, this.#hi(w), hi)
    this.#releaseLock(w)
    return left
  }

  /**
   * Owner only: claims up to `count` records at the front of its range;
   * returns how many it got (0 when thieves took the rest). The fast path
   * stores the new lo and loads hi; only when a thief lowered hi past it does
   * the owner back off and claim again under the lock.
   */
  claimFront (w: number, count: number): number {
    const at = this.#lo(w)
    const lo = Atomics.load(this.i32, at)
    Atomics.store(this.i32, at, lo + count)
    if (lo + count <= Atomics.load(this.i32, this.#hi(w))) return count
    Atomics.store(this.i32, at, lo)
    this.#acquireLock(w)
    const hi = Atomics.load(this.i32, this.#hi(w))
    const got = hi - lo < count ? Math.max(0, hi - lo) : count
    Atomics.store(this.i32, at, lo + got)
    this.#releaseLock(w)
    return got
  }

  /** Owner only: lowers its range's end to `end` (if a thief has not already); returns the end before, so [end, before) is the owner's to push. */
  cutBack (w: number, end: number): number {
    this.#acquireLock(w)
    const hi = Atomics.load(this.i32, this.#hi(w))
    if (end < hi) Atomics.store(this.i32, this.#hi(w), end)
    this.#releaseLock(w)
    return hi
  }

  /**
   * Takes the back part of `victim`'s current range: the back half when it
   * has at least `2 * min` records, else all of it. TAKE_WON, TAKE_EMPTY, or
   * TAKE_LOST when another thief holds the range's lock or the owner's next
   * chunk reached past the cut.
   */
  stealRange (victim: number, min: number): number {
    const lock = this.#lock(victim)
    if (Atomics.load(this.i32, lock) !== 0 || Atomics.compareExchange(this.i32, lock, 0, 1) !== 0) return TAKE_LOST
    const lo = Atomics.load(this.i32, this.#lo(victim))
    const hi = Atomics.load(this.i32, this.#hi(victim))
    const left = hi - lo
    let result = TAKE_EMPTY
    if (left > 0) {
      const mid = left >= 2 * min ? lo + (left >>> 1) : lo
      Atomics.store(this.i32, this.#hi(victim), mid)
      if (Atomics.load(this.i32, this.#lo(victim)) > mid) {
        Atomics.store(this.i32, this.#hi(victim), hi)
        result = TAKE_LOST
      } else {
        this.takenOffset = mid
        this.takenCount = hi - mid
        result = TAKE_WON
      }
    }
    this.#releaseLock(victim)
    return result
  }

  /**
   * Main thread: whether slot `w` has no thread. Under the range lock, so that no adopt() of it is
   * half done when a new thread takes the slot over. A slot left idle wakes the threads, which may
   * adopt its ranges.
   */
  setIdle (w: number, idle: boolean): void {
    this.#acquireLock(w)
    Atomics.store(this.i32, this.stat(w, STAT_IDLE), idle ? 1 : 0)
    this.#releaseLock(w)
    if (idle) this.wakeAll()
  }

  isIdle (w: number): boolean { return Atomics.load(this.i32, this.stat(w, STAT_IDLE)) !== 0 }

  /** First record of the lowest range `w` holds (its current range, else its deque's bottom), or Infinity: a hint, it may change. */
  lowest (w: number): number {
    if (this.rangeHi(w) > this.rangeLo(w)) return this.rangeLo(w)
    const b = Atomics.load(this.i32, this.#bottom(w)) - 1
    if (Atomics.load(this.i32, this.#top(w)) > b) return Infinity
    return Atomics.load(this.i32, this.#ring(w) + ((b & RING_MASK) << 1))
  }

  /**
   * A thread, for a slot without a thread (setIdle): takes the lowest range `victim` holds (its
   * whole current range, else its deque's bottom, as its owner would) when it starts below
   * `below`. Under the slot's range lock, so one adopter at a time acts as its owner. TAKE_WON,
   * TAKE_EMPTY, or TAKE_LOST when the lock was held or a thief won the last range.
   */
  adopt (victim: number, below: number): number {
    const lock = this.#lock(victim)
    if (Atomics.compareExchange(this.i32, lock, 0, 1) !== 0) return TAKE_LOST
    let result = TAKE_EMPTY
    if (this.isIdle(victim)) {
      const lo = Atomics.load(this.i32, this.#lo(victim))
      const hi = Atomics.load(this.i32, this.#hi(victim))
      if (hi > lo) {
        if (lo < below) {
          Atomics.store(this.i32, this.#lo(victim), hi)
          this.takenOffset = lo
          this.takenCount = hi - lo
          result = TAKE_WON
        }
      } else {
        const bottom = this.#bottom(victim)
        const top = this.#top(victim)
        const b = Atomics.load(this.i32, bottom) - 1
        const slot = this.#ring(victim) + ((b & RING_MASK) << 1)
        const offset = Atomics.load(this.i32, slot)
        if (Atomics.load(this.i32, top) <= b && offset < below) {
          this.takenOffset = offset
          this.takenCount = Atomics.load(this.i32, slot + 1)
          Atomics.store(this.i32, bottom, b)
          const t = Atomics.load(this.i32, top)
          if (t < b) {
            result = TAKE_WON
          } else {
            result = t === b && Atomics.compareExchange(this.i32, top, t, t + 1) === t ? TAKE_WON : TAKE_LOST
            Atomics.store(this.i32, bottom, b + 1)
          }
        }
      }
    }
    this.#releaseLock(victim)
    return result
  }

  /** Records waiting in some deque or current range: something a hungry thread can take. */
  stealable (): boolean {
    for (let w = 0; w < this.workers; w++) {
      if (this.depth(w) > 0) return true
      if (this.rangeHi(w) > this.rangeLo(w)) return true
    }
    return false
  }

  /**
   * Sleeps until the wake epoch moves from `epoch` (or `timeoutMs`). The
   * caller read `epoch` before its last look for work, so a push between
   * that look and this wait makes the wait return at once.
   */
  sleep (w: number, epoch: number, timeoutMs: number): void {
    Atomics.store(this.i32, this.stat(w, STAT_PARKED), 1)
    Atomics.wait(this.i32, EPOCH, epoch, timeoutMs)
    Atomics.store(this.i32, this.stat(w, STAT_PARKED), 0)
    Atomics.add(this.i32, WAKES, 1)
  }

  get epoch (): number { return Atomics.load(this.i32, EPOCH) }
  addSleepers (delta: number): void { Atomics.add(this.i32, SLEEPERS, delta) }

  /** Owner: it runs the chunk [lo, lo + count). */
  holdChunk (w: number, lo: number, count: number): void {
    const at = this.#held(w)
    Atomics.store(this.i32, at + HELD_RUN_HI, lo + count)
    Atomics.store(this.i32, at + HELD_RUN_LO, lo)
  }

  /** Owner: its chunk is done and now in batch range `pair`, [from, to); it holds `pairs` batch ranges. */
  holdProcessed (w: number, pair: number, from: number, to: number, pairs: number): void {
    const at = this.#held(w)
    Atomics.store(this.i32, at + HELD_PAIR0 + 2 * pair, from)
    Atomics.store(this.i32, at + HELD_PAIR0 + 2 * pair + 1, to)
    Atomics.store(this.i32, at + HELD_PAIRS, pairs)
    Atomics.store(this.i32, at + HELD_RUN_HI, Atomics.load(this.i32, at + HELD_RUN_LO))
  }

  /** Owner: its batch was posted. */
  releaseProcessed (w: number): void { Atomics.store(this.i32, this.#held(w) + HELD_PAIRS, 0) }

  /**
   * Main thread, once w's thread is gone: the records it had started and
   * not posted, as [from, to) ranges; the held line is cleared for the next
   * thread of w.
   */
  takeHeld (w: number): Array<[number, number]> {
    const at = this.#held(w)
    const held: Array<[number, number]> = []
    const pairs = Math.min(Atomics.load(this.i32, at + HELD_PAIRS), MAX_HELD_PAIRS)
    for (let k = 0; k < pairs; k++) {
      const from = Atomics.load(this.i32, at + HELD_PAIR0 + 2 * k)
      const to = Atomics.load(this.i32, at + HELD_PAIR0 + 2 * k + 1)
      if (to > from) held.push([from, to])
    }
    const runLo = Atomics.load(this.i32, at + HELD_RUN_LO)
    const runHi = Atomics.load(this.i32, at + HELD_RUN_HI)
    if (runHi > runLo) held.push([runLo, runHi])
    for (let k = 0; k < LINE; k++) Atomics.store(this.i32, at + k, 0)
    return held.sort((a, b) => a[0] - b[0])
  }

  read (w: number, field: number): number { return Atomics.load(this.i32, this.stat(w, field)) }
  write (w: number, field: number, value: number): void { Atomics.store(this.i32, this.stat(w, field), value) }
  add (w: number, field: number, value: number): void { Atomics.add(this.i32, this.stat(w, field), value) }

  /** A thread: books a finished chunk of `records` records that took `ms` in the live figures. */
  addChunk (w: number, records: number, ms: number): void {
    const stats = this.stat(w, 0)
    const ns = Math.round(ms * 1e6)
    // One writer at a time (the slot's thread, then its replacement), so plain stores: aligned, never torn;
    // doubles are exact for integers below 2^53.
    const i32 = this.i32
    this.#f64[(stats + STAT_CHUNK_NS) >> 1] += ns > 0 ? ns : 0
    this.#f64[(stats + STAT_CHUNK_RECORDS) >> 1] += records
    i32[this.#histogram(w, 0) + liveBucket(ms)]++
    i32[this.#histogram(w, 1) + liveBucket(records)]++
    // Last, so that a reader that finds both histograms holding this many chunks has the whole chunk.
    Atomics.add(i32, stats + STAT_CHUNKS, 1)
  }

  /** A thread: adds to its live steal and contention figures. */
  addSteals (w: number, attempted: number, won: number, contention: number, lockWaitMs: number): void {
    const stats = this.stat(w, 0)
    if (attempted !== 0) Atomics.add(this.i32, stats + STAT_STEALS_TRIED, attempted)
    if (won !== 0) Atomics.add(this.i32, stats + STAT_STEALS_WON, won)
    if (contention !== 0) Atomics.add(this.i32, stats + STAT_CONTENTION, contention)
    const us = Math.round(lockWaitMs * 1000)
    if (us > 0) Atomics.add(this.i32, stats + STAT_LOCK_WAIT_US, us)
  }

  /** The live figures of slot `w` so far in this scan. */
  liveMetrics (w: number): WorkerProgress {
    const stats = this.stat(w, 0)
    const i32 = this.i32
    let chunks = 0
    let records = 0
    let chunkMs: LiveHistogram
    let chunkSize: LiveHistogram
    // The thread books a chunk with several stores: read again while one was booked between the reads.
    let tries = 0
    do {
      chunks = Atomics.load(i32, stats + STAT_CHUNKS)
      records = this.#f64[(stats + STAT_CHUNK_RECORDS) >> 1]
      chunkMs = this.#liveHistogram(w, 0, this.#f64[(stats + STAT_CHUNK_NS) >> 1] / 1e6)
      chunkSize = this.#liveHistogram(w, 1, records)
    } while ((chunkMs.count !== chunks || chunkSize.count !== chunks || Atomics.load(i32, stats + STAT_CHUNKS) !== chunks) && ++tries < MAX_LIVE_READS)
    return {
      worker_id: w,
      chunks_processed: chunks,
      records_processed: records,
      steals_attempted: Atomics.load(i32, stats + STAT_STEALS_TRIED),
      steals_successful: Atomics.load(i32, stats + STAT_STEALS_WON),
      lock_contention_events: Atomics.load(i32, stats + STAT_CONTENTION),
      time_waiting_on_lock_ms: Atomics.load(i32, stats + STAT_LOCK_WAIT_US) / 1000,
      chunk_ms: chunkMs,
      chunk_size: chunkSize
    }
  }

  /** Count is the buckets' total, so a chunk booked between the reads shows in both or in neither of count and buckets. */
  #liveHistogram (w: number, which: 0 | 1, sum: number): LiveHistogram {
    const at = this.#histogram(w, which)
    const buckets: Array<[number, number]> = []
    let count = 0
    for (let i = 0; i < LIVE_BUCKETS; i++) {
      const n = Atomics.load(this.i32, at + i)
      if (n === 0) continue
      buckets.push([liveBucketBound(i), n])
      count += n
    }
    return { count, sum, buckets }
  }

  /**
   * Main thread, while the owner is gone: the ranges still in w's current range
   * and deque, as [offset, end) pairs. They stay there for thieves and for the
   * owner's replacement, which goes on with the current range first. A bottom
   * that an interrupted pop left below top is raised to top.
   */
  queued (w: number): Array<[number, number]> {
    const ranges: Array<[number, number]> = []
    this.#acquireLock(w)
    const lo = this.rangeLo(w)
    const hi = this.rangeHi(w)
    this.#releaseLock(w)
    if (hi > lo) ranges.push([lo, hi])
    const t = Atomics.load(this.i32, this.#top(w))
    const b = Atomics.load(this.i32, this.#bottom(w))
    if (b < t) {
      Atomics.store(this.i32, this.#bottom(w), t)
      return ranges
    }
    for (let k = t; k < b; k++) {
      const slot = this.#ring(w) + ((k & RING_MASK) << 1)
      const offset = Atomics.load(this.i32, slot)
      ranges.push([offset, offset + Atomics.load(this.i32, slot + 1)])
    }
    return ranges
  }
}

/** Live histogram bucket of v: bucket 0 holds v <= 2^-16, bucket i holds (2^((i-1)/8 - 16), 2^(i/8 - 16)]. */
export function liveBucket (v: number): number {
  if (!(v > 1.52587890625e-5)) return 0
  const i = Math.ceil((Math.log2(v) + 16) * LIVE_SUB_BUCKETS)
  return i < LIVE_BUCKETS ? i : LIVE_BUCKETS - 1
}

/** Upper bound of live histogram bucket i (Infinity for the last one). */
export function liveBucketBound (i: number): number {
  return i >= LIVE_BUCKETS - 1 ? Infinity : 2 ** (i / LIVE_SUB_BUCKETS - 16)
}
