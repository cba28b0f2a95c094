/** Int32 slots per 128-byte line: every hot word gets its own line. */
const LINE = 32
const RING_ENTRIES = 1024
const RING_MASK = RING_ENTRIES - 1
const GLOBAL_LINES = 11
/** top, bottom, stats, range word, then the ring. */
const WORKER_LINES = 4 + (RING_ENTRIES * 2) / LINE
const LOW_BITS = 0xffffffffn

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
/** Ordered scans: bytes of JSON posted by threads and not yet handed over (a BigInt64 slot). */
const HELD_BYTES = (9 * LINE) >> 1
/** Ordered scans: 1 while crash recovery waits for the live threads to go idle; nobody waits at the window then. */
const WINDOW_LIFTED = 10 * LINE

/** Per-worker counters on the worker's stats line, written only by that worker. */
export const STAT_PROCESSED = 0
export const STAT_MATCHED = 1
export const STAT_SKIPPED = 2
/** Records whose results were posted to the main thread. */
export const STAT_POSTED = 3
/** 1 while the worker sleeps in Atomics.wait. */
export const STAT_PARKED = 4

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
 * range word: the records of its current range not yet started, as one
 * 64-bit [lo, hi) that the owner moves lo of and thieves move hi of, both
 * by CAS. The owner pushes and pops the deque bottom; thieves CAS the top.
 * JS Atomics are sequentially consistent, so the textbook algorithm needs
 * no fences.
 */
export class SharedScanState {
  static bytesFor (workers: number): number {
    return (GLOBAL_LINES + workers * WORKER_LINES) * LINE * 4
  }

  readonly buffer: SharedArrayBuffer
  readonly workers: number
  readonly i32: Int32Array
  readonly #i64: BigInt64Array
  /** Offset and count of the range taken by the last successful pop or steal. */
  takenOffset = 0
  takenCount = 0

  constructor (buffer: SharedArrayBuffer, workers: number) {
    this.buffer = buffer
    this.workers = workers
    this.i32 = new Int32Array(buffer)
    this.#i64 = new BigInt64Array(buffer)
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
  #range (w: number): number { return (this.#base(w) + 3 * LINE) >> 1 }
  #ring (w: number): number { return this.#base(w) + 4 * LINE }

  get aborted (): boolean { return Atomics.load(this.i32, ABORT) !== 0 }
  abort (): void {
    Atomics.store(this.i32, ABORT, 1)
    this.wakeAll()
    Atomics.notify(this.i32, FRONT)
  }

  /** Ordered scans: the records below it have been handed over in order. */
  get front (): number { return Atomics.load(this.i32, FRONT) }
  /** Ordered scans: JSON bytes posted and not yet handed over. */
  get heldBytes (): number { return Number(Atomics.load(this.#i64, HELD_BYTES)) }
  /** A thread: `bytes` of ordered results are on their way to the calling thread. */
  addHeldBytes (bytes: number): void { Atomics.add(this.#i64, HELD_BYTES, BigInt(bytes)) }

  /** Calling thread: records below `front` and `bytes` more were handed over; wakes the threads waiting for the window. */
  release (front: number, bytes: number): void {
    if (bytes !== 0) Atomics.sub(this.#i64, HELD_BYTES, BigInt(bytes))
    Atomics.store(this.i32, FRONT, front)
    Atomics.notify(this.i32, FRONT)
  }

  get windowLifted (): boolean { return Atomics.load(this.i32, WINDOW_LIFTED) !== 0 }
  /** Calling thread: lifts the ordered window (or puts it back) and wakes the threads waiting at it. */
  liftWindow (lifted: boolean): void {
    Atomics.store(this.i32, WINDOW_LIFTED, lifted ? 1 : 0)
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

  /** Adds to the records-started counter, returns the value before. */
  addStarted (records: number): number { return Atomics.add(this.i32, STARTED, records) }
  get started (): number { return Atomics.load(this.i32, STARTED) }

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

  wakeAll (): void {
    Atomics.add(this.i32, EPOCH, 1)
    Atomics.notify(this.i32, EPOCH)
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

  /** The range word of `w`: its records not yet started, [rangeLo(word), rangeHi(word)). */
  rangeWord (w: number): bigint { return Atomics.load(this.#i64, this.#range(w)) }

  /** Owner only, while its range word is empty (thieves leave an empty word alone): makes [lo, hi) its range. */
  setRange (w: number, lo: number, hi: number): void {
    Atomics.store(this.#i64, this.#range(w), packRange(lo, hi))
  }

  /** Owner only: replaces `word` (as read) by [lo, hi); false when a thief moved it first. */
  updateRange (w: number, word: bigint, lo: number, hi: number): boolean {
    return Atomics.compareExchange(this.#i64, this.#range(w), word, packRange(lo, hi)) === word
  }

  /**
   * Takes the back part of `victim`'s range word: the back half when it has
   * at least `2 * min` records, else all of it. TAKE_WON, TAKE_EMPTY, or
   * TAKE_LOST when the owner or another thief moved the word first.
   */
  stealRange (victim: number, min: number): number {
    const at = this.#range(victim)
    const word = Atomics.load(this.#i64, at)
    const lo = rangeLo(word)
    const hi = rangeHi(word)
    const left = hi - lo
    if (left <= 0) return TAKE_EMPTY
    const mid = left >= 2 * min ? lo + (left >>> 1) : lo
    if (Atomics.compareExchange(this.#i64, at, word, packRange(lo, mid)) !== word) return TAKE_LOST
    this.takenOffset = mid
    this.takenCount = hi - mid
    return TAKE_WON
  }

  /** Records waiting in some deque or range word: something a hungry thread can take. */
  stealable (): boolean {
    for (let w = 0; w < this.workers; w++) {
      if (this.depth(w) > 0) return true
      const word = this.rangeWord(w)
      if (rangeHi(word) > rangeLo(word)) return true
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

  read (w: number, field: number): number { return Atomics.load(this.i32, this.stat(w, field)) }
  write (w: number, field: number, value: number): void { Atomics.store(this.i32, this.stat(w, field), value) }
  add (w: number, field: number, value: number): void { Atomics.add(this.i32, this.stat(w, field), value) }

  /**
   * Main thread, while the owner is gone: the ranges still in w's range word
   * and deque, as [offset, end) pairs. They stay there for thieves and for the
   * owner's replacement, which goes on with the range word first. A bottom
   * that an interrupted pop left below top is raised to top.
   */
  queued (w: number): Array<[number, number]> {
    const ranges: Array<[number, number]> = []
    const word = this.rangeWord(w)
    if (rangeHi(word) > rangeLo(word)) ranges.push([rangeLo(word), rangeHi(word)])
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

function packRange (lo: number, hi: number): bigint {
  return (BigInt(hi) << 32n) | BigInt(lo)
}

export function rangeLo (word: bigint): number {
  return Number(word & LOW_BITS)
}

export function rangeHi (word: bigint): number {
  return Number(word >> 32n)
}
