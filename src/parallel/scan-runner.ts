/*
 * Longer than the other engine files on purpose: the per-chunk and per-record
 * paths of a thread share hot fields that V8 keeps fast only inside one object.
 */
import { AdaptiveChunkController } from './adaptive-chunk-controller.js'
import { LogHistogram } from './log-histogram.js'
import {
  DEQUE_CAPACITY, MAX_HELD_PAIRS, SharedScanState, STAT_MATCHED, STAT_POSTED, STAT_PROCESSED, STAT_RECORD, STAT_SKIPPED, STAT_YIELD, TAKE_LOST, TAKE_WON
} from './shared-scan-state.js'
import type { Aggregator, RecordErrorSample, TaskModule, WorkerMetrics } from './types.js'
import { boundsTransit, boundsUnorderedPages, describeError, resultBytes, TRANSIT_BYTES, recordErrorCode, ScanFailure, type CommitMessage, type DoneMessage, type FailedMessage, type ScanSpec, type WorkerMessage } from './worker-protocol.js'
import { beginChunkMarks } from './record-mark.js'

/** Steal rounds over all victims before a hungry thread sleeps. */
const SPIN_ROUNDS = 64
/** Longest sleep before a parked thread looks again (a safety net; wake-ups come by notify). */
const PARK_TIMEOUT_MS = 250
/** A batch is flushed when it holds this many results... */
const FLUSH_ITEMS = 16_384
/** ...or when its oldest record is this old... */
const FLUSH_MS = 50
/** ...or when the JSON of its results has this many characters. */
const FLUSH_CHARS = 4 * 1024 * 1024

export interface ScanRunnerOptions {
  /** Receives every message for the main thread. */
  post: (message: WorkerMessage) => void
  /**
   * Awaited after every flush; the sequential scheduler yields to the event loop there.
   * @defaultValue none
   */
  afterFlush?: () => Promise<void>
}

/**
 * The scan loop of one thread: takes ranges (its own deque,
 * stolen ones, or the thread_pool cursor) into its shared current range, cuts
 * them into adaptive chunks, splits off the back half to its deque when a
 * thread is hungry, and posts results in batches. Everything but the chunk
 * it runs can be stolen. Never throws: a failure is posted and aborts the scan.
 */
export class ScanRunner {
  readonly #spec: ScanSpec
  readonly #task: TaskModule
  readonly #state: SharedScanState
  readonly #options: ScanRunnerOptions
  readonly #me: number
  readonly #ctrl: AdaptiveChunkController
  readonly #chunkMs = new LogHistogram()
  readonly #chunkSize = new LogHistogram()
  readonly #stealing: boolean
  readonly #splitting: boolean
  readonly #aggregate: Aggregator<unknown, unknown> | undefined
  readonly #span: SpanState
  /** Ordered, in worker threads: the reorder window applies. */
  readonly #windowed: boolean
  /** Unordered results, in worker threads: the JSON posted and not yet handed over is bounded (window.bytes). */
  readonly #bounded: boolean
  /** In a worker thread: it waits to post while what it and the others posted is still on its way (TRANSIT_BYTES). */
  readonly #inTransit: boolean
  /** Index of the word that asks this thread to give its thread back (ScanSession#yieldThreads). */
  readonly #yieldAt: number
  /** Ordered: one JSON text per chunk of the batch, and their total length. */
  #parts: string[] = []
  #partBytes = 0
  #batchItems = 0

  /** First record of the chunk #beginChunk claimed. */
  #chunkLo = 0
  #processed = 0
  #matched = 0
  #skipped = 0
  #stealsAttempted = 0
  #stealsWon = 0
  #contention = 0
  #lockWaitMs = 0
  /** The steal figures as last added to the live ones in shared memory. */
  readonly #published = { attempted: 0, won: 0, contention: 0, lockWaitMs: 0 }
  #depthSum = 0
  #depthMax = 0
  #feederMax = 0

  #batchRanges: number[] = []
  #batchRecords = 0
  #batchSkipped = 0
  #batchErrors: RecordErrorSample[] = []
  #errorsKept = 0
  #batchStart = 0

  constructor (spec: ScanSpec, task: TaskModule, state: SharedScanState, options: ScanRunnerOptions) {
    this.#spec = spec
    this.#task = task
    this.#state = state
    this.#options = options
    this.#me = spec.workerId
    this.#ctrl = new AdaptiveChunkController(spec.config)
    this.#stealing = spec.scheduler !== 'thread_pool'
    this.#splitting = this.#stealing && spec.workers > 1
    this.#aggregate = task.aggregate
    this.#windowed = spec.ordered && task.aggregate === undefined && spec.scheduler !== 'sequential'
    this.#bounded = task.aggregate === undefined && boundsUnorderedPages(spec.ordered, spec.scheduler)
    this.#inTransit = boundsTransit(spec.scheduler)
    this.#yieldAt = state.stat(spec.workerId, STAT_YIELD)
    this.#span = {
      process: task.process,
      collect: task.aggregate === undefined ? task.collect : undefined,
      params: spec.params,
      aggregate: task.aggregate,
      items: [],
      partial: undefined,
      matched: 0,
      promise: undefined,
      error: undefined,
      marks: state.i32,
      mark: state.stat(spec.workerId, STAT_RECORD)
    }
  }

  async run (): Promise<void> {
    const { post } = this.#options
    const params = this.#spec.params
    let failure: ScanFailure | undefined
    try {
      if (this.#task.init !== undefined) await callHook('init', () => this.#task.init?.(params))
      if (this.#aggregate !== undefined) this.#span.partial = this.#aggregate.create(params)
      this.#batchStart = performance.now()
      if (this.#spec.takeOver) this.#takeOver()
      await this.#loop()
      if (!this.#state.aborted) await this.#flush()
    } catch (error) {
      failure = toFailure(error)
    }
    try {
      if (this.#task.teardown !== undefined) await callHook('teardown', () => this.#task.teardown?.(params))
    } catch (error) {
      failure ??= toFailure(error)
    }
    if (failure !== undefined) {
      this.#state.abort()
      const message: FailedMessage = { type: 'failed', scanId: this.#spec.scanId, workerId: this.#me, failure: failure.data }
      try {
        post(message)
      } catch {
        post({ ...message, failure: { ...failure.data, cause: plainError(failure.data.cause) } })
      }
    }
    post(this.#done())
  }

  /*
   * The loop is async (fetch and process may return promises) and runs once
   * per scan, so V8 never optimizes it; per-chunk and per-record work lives in
   * the synchronous helpers below, which are called often and get optimized.
   */
  async #loop (): Promise<void> {
    const state = this.#state
    const task = this.#task
    const params = this.#spec.params
    const span = this.#span
    for (;;) {
      // Asked to give the thread back: what it has not started stays in its current range and deque for the others.
      if (state.aborted || Atomics.load(state.i32, this.#yieldAt) !== 0) return
      if (this.#windowed && !(await this.#admit())) return
      if (this.#bounded && state.heldBytes + this.#partBytes >= this.#spec.window.bytes && !(await this.#makeRoom())) return
      const count = this.#beginChunk()
      if (count === 0) {
        if (!(await this.#acquire())) return
        continue
      }
      const lo = this.#chunkLo
      let records: unknown[]
      try {
        beginChunkMarks(span.marks, span.mark, lo)
        const fetched = task.fetch(lo, count, params)
        records = fetched instanceof Promise ? await fetched : fetched
      } catch (error) {
        throw new ScanFailure({ kind: 'fetch', offset: lo, count, detail: describeError(error), cause: error })
      }
      if (!Array.isArray(records) || records.length !== count) {
        const got = Array.isArray(records) ? `${records.length} records` : `a ${records === null ? 'null' : typeof records} instead of an array`
        throw new ScanFailure({ kind: 'short', offset: lo, count, detail: got })
      }
      span.matched = 0
      if (span.collect !== undefined) {
        for (let i = collectSpan(span, records, lo, 0, count); i < count; i = collectSpan(span, records, lo, i + 1, count)) await this.#handOver(records[i], lo + i)
        if (this.#endChunk(lo, count)) await this.#flush()
        continue
      }
      for (let i = processSpan(span, records, lo, 0, count); i < count; i = processSpan(span, records, lo, i + 1, count)) {
        if (span.promise !== undefined) {
          const promise = span.promise
          span.promise = undefined
          try {
            this.#keep(await promise)
          } catch (error) {
            this.#recordError(lo + i, error)
          }
        } else {
          const error = span.error
          span.error = undefined
          this.#recordError(lo + i, error)
        }
      }
      if (this.#endChunk(lo, count)) await this.#flush()
    }
  }

  /**
   * Claims the next chunk at the front of the current range into #chunkLo
   * (splitting the back half off to the deque when due); returns its
   * records, 0 when the range is empty. The rest of the range stays
   * shared, where a thief can take its back part while this chunk runs.
   */
  #beginChunk (): number {
    const state = this.#state
    const me = this.#me
    const config = this.#spec.config
    const min = config.min_chunk_size
    let size = this.#ctrl.size
    const cap = Math.max(min, Math.ceil((this.#spec.total - state.started) / (2 * this.#spec.workers)))
    if (size > cap) size = cap
    const windowRecords = this.#windowed ? this.#spec.window.records : 0
    // Room in the window for two chunks of every thread, so they need not take turns.
    if (this.#windowed && size > Math.ceil(windowRecords / (2 * this.#spec.workers))) size = Math.ceil(windowRecords / (2 * this.#spec.workers))
    let depth = state.depth(me)
    const lo = state.rangeLo(me)
    const hi = state.rangeHi(me)
    // A range that looks empty here may be a thief's passing cut, which it takes back when this
    // thread's last chunk reached past it: only claimFront, under the lock when in doubt, says so.
    const left = hi - lo
    if (this.#splitting && left > size && left >= 2 * min && depth < config.max_inflight_chunks_per_worker && (depth === 0 || state.hungry > 0)) {
      const end = lo + Math.max(size, left >>> 1)
      const before = state.cutBack(me, end)
      if (end < before) {
        state.push(me, end, before - end)
        depth++
        const waiting = state.totalDepth()
        if (waiting > this.#feederMax) this.#feederMax = waiting
        // Also when nobody looked hungry: a thief may have parked after the look and before the push.
        state.signalWork()
      }
    }
    let count = size
    if (this.#windowed) {
      // No record at or past the window's end: #admit let lo in, and the front only moves up.
      const room = state.front + windowRecords - lo
      if (count > room) count = Math.max(1, room)
    }
    count = state.claimFront(me, count)
    if (count === 0) return 0
    this.#chunkLo = lo
    this.#depthSum += depth
    if (depth > this.#depthMax) this.#depthMax = depth
    state.holdChunk(me, lo, count)
    state.addStarted(count)
    this.#ctrl.start()
    return count
  }

  /** Books a finished chunk; true when the batch is due for a flush. */
  #endChunk (lo: number, count: number): boolean {
    const state = this.#state
    const me = this.#me
    const matched = this.#span.matched
    const ms = this.#ctrl.finish(count)
    this.#chunkMs.record(ms)
    this.#chunkSize.record(count)
    state.addChunk(me, count, ms)
    if (this.#contention !== this.#published.contention || this.#stealsAttempted !== this.#published.attempted) this.#publishSteals()
    this.#processed += count
    this.#matched += matched
    state.write(me, STAT_PROCESSED, this.#processed)
    if (matched !== 0) state.write(me, STAT_MATCHED, this.#matched)
    if (this.#batchSkipped !== 0) state.write(me, STAT_SKIPPED, this.#skipped)
    const ranges = this.#batchRanges
    const last = ranges.length - 3
    const ordered = this.#spec.ordered && this.#aggregate === undefined
    if (this.#aggregate === undefined && (ordered || matched !== 0)) {
      // One JSON text per chunk: its length bounds the batch in bytes, and an ordered window's bytes before the next chunk.
      let json: string
      try {
        json = matched === 0 ? '[]' : JSON.stringify(this.#span.items)
      } catch (error) {
        throw new ScanFailure({ kind: 'json', offset: lo, count, detail: describeError(error), cause: error })
      }
      this.#span.items = []
      this.#parts.push(json)
      this.#partBytes += json.length
    }
    if (ordered) {
      ranges.push(lo, lo + count, matched)
    } else if (last >= 0 && ranges[last + 1] === lo) {
      ranges[last + 1] = lo + count
      ranges[last + 2] += matched
    } else {
      ranges.push(lo, lo + count, matched)
    }
    Atomics.store(state.i32, this.#span.mark, 0)
    const pairs = ranges.length / 3
    state.holdProcessed(me, pairs - 1, ranges[ranges.length - 3], lo + count, pairs)
    if (this.#aggregate === undefined) this.#batchItems += matched
    this.#batchRecords += count
    return pairs >= MAX_HELD_PAIRS || this.#batchItems >= FLUSH_ITEMS || this.#partBytes >= FLUSH_CHARS || performance.now() - this.#batchStart >= FLUSH_MS
  }

  /**
   * Ordered: holds the thread before a chunk that would start at or past the
   * window's end (front + window.records), or, unless it starts at the front,
   * while the JSON held reaches window.bytes. It flushes first (its own
   * results may be what the front waits for), then adopts a lower range of a
   * slot without a thread, or sleeps on the front. The thread at the front
   * always goes on, so the window cannot close for good; the current range
   * stays stealable meanwhile. False when the scan stops or the thread is
   * asked to give its thread back.
   */
  async #admit (): Promise<boolean> {
    const state = this.#state
    const { records, bytes } = this.#spec.window
    for (;;) {
      if (state.aborted) return false
      const lo = state.rangeLo(this.#me)
      if (state.rangeHi(this.#me) <= lo) return true
      const front = state.front
      if (lo < front + records && (lo <= front || state.heldBytes + this.#partBytes < bytes)) return true
      if (this.#batchRecords > 0) {
        await this.#flush()
        continue
      }
      if (Atomics.load(state.i32, this.#yieldAt) !== 0) return false
      if (this.#adopt(lo)) continue
      state.waitFront(front, PARK_TIMEOUT_MS)
    }
  }

  /**
   * Unordered: holds the thread before its next chunk while the JSON posted and not yet handed
   * over reaches window.bytes, so a consumer slower than the threads bounds what waits for it in
   * memory. It posts its own batch first. False when the scan stops or the thread is asked to give
   * its thread back.
   */
  async #makeRoom (): Promise<boolean> {
    const state = this.#state
    if (this.#batchRecords > 0) await this.#flush()
    for (;;) {
      if (state.aborted) return false
      const held = state.heldBytes
      if (held < this.#spec.window.bytes) return true
      if (Atomics.load(state.i32, this.#yieldAt) !== 0) return false
      state.waitHeld(held, PARK_TIMEOUT_MS)
    }
  }

  /**
   * Ordered, at the window: the lowest range of a slot without a thread (it gave its thread back,
   * or has not got one yet) becomes this thread's current range when it starts below `lo`, and
   * the current range goes to the bottom of the deque, so the current range stays the lowest this
   * thread holds. The front's records are always in some running thread's hands that way. True
   * when it took a range or should look again.
   */
  #adopt (lo: number): boolean {
    const state = this.#state
    const me = this.#me
    if (state.depth(me) >= DEQUE_CAPACITY - 2) return false
    let victim = -1
    let lowest = lo
    for (let w = 0; w < this.#spec.workers; w++) {
      if (w === me || !state.isIdle(w)) continue
      const low = state.lowest(w)
      if (low < lowest) {
        lowest = low
        victim = w
      }
    }
    if (victim < 0) return false
    const result = state.adopt(victim, lo)
    if (result !== TAKE_WON) return result === TAKE_LOST
    const [left, right] = state.setRange(me, state.takenOffset, state.takenOffset + state.takenCount)
    if (right > left) state.push(me, left, right - left)
    if (this.#splitting) state.signalWork()
    return true
  }

  /**
   * A replaced thread: the current range and deque its slot left (crash
   * recovery put the dead thread's lost ranges in that deque), sorted so
   * that its current range holds the lowest and its deque the rest, the lowest
   * at the bottom. Nothing below a thread's current range is then held by it,
   * which the ordered window relies on.
   */
  #takeOver (): void {
    const state = this.#state
    const me = this.#me
    const ranges: Array<[number, number]> = []
    const [lo, hi] = state.setRange(me, 0, 0)
    if (hi > lo) ranges.push([lo, hi])
    while (state.pop(me) === TAKE_WON) ranges.push([state.takenOffset, state.takenOffset + state.takenCount])
    ranges.sort((a, b) => a[0] - b[0])
    const first = ranges.shift()
    for (let i = ranges.length - 1; i >= 0; i--) state.push(me, ranges[i][0], ranges[i][1] - ranges[i][0])
    if (first !== undefined) this.#own(first[0], first[1])
  }

  /** The record at `offset` that collect left to process: its result is kept, or its error booked. */
  async #handOver (record: unknown, offset: number): Promise<void> {
    const span = this.#span
    span.marks[span.mark] = offset + 1
    try {
      const value = this.#task.process(record, span.params, offset)
      this.#keep(value instanceof Promise ? await value : value)
    } catch (error) {
      this.#recordError(offset, error)
    }
  }

  /** A value that process resolved to. */
  #keep (value: unknown): void {
    if (value === null || value === undefined) return
    const span = this.#span
    span.matched++
    if (span.aggregate === undefined) span.items.push(value)
    else span.partial = span.aggregate.add(span.partial, value, span.params)
  }

  /** process threw for the record at `offset`: fails the scan, or counts and samples it with on_error 'skip'. */
  #recordError (offset: number, error: unknown): void {
    if (this.#spec.onError !== 'skip') throw new ScanFailure({ kind: 'record', offset, count: 1, detail: describeError(error), cause: error })
    this.#skipped++
    this.#batchSkipped++
    if (this.#errorsKept < this.#spec.maxErrorSamples) {
      this.#errorsKept++
      this.#batchErrors.push({ offset, message: describeError(error), code: recordErrorCode(error) })
    }
  }

  /** Takes the next range as the current range; false when the scan is over or aborted. */
  async #acquire (): Promise<boolean> {
    const state = this.#state
    // Under thread_pool only crash recovery puts ranges in a deque.
    const popped = state.pop(this.#me)
    if (popped === TAKE_WON) return this.#take()
    if (popped === TAKE_LOST) this.#contention++
    if (!this.#stealing && this.#claim()) return true
    await this.#flush()
    return this.#search()
  }

  #take (): true {
    return this.#own(this.#state.takenOffset, this.#state.takenOffset + this.#state.takenCount)
  }

  /** Makes [lo, hi) the current range; thieves that looked before may take part of it, so they are told. */
  #own (lo: number, hi: number): true {
    this.#state.setRange(this.#me, lo, hi)
    if (this.#splitting) this.#state.signalWork()
    return true
  }

  #claim (): boolean {
    const state = this.#state
    const { total, workers } = this.#spec
    let failedAt = 0
    for (;;) {
      if (state.aborted) return false
      const guided = Math.max(this.#spec.config.min_chunk_size, Math.ceil((total - state.cursor) / (2 * workers)))
      const result = state.claim(total, Math.min(this.#ctrl.size, guided))
      if (result === TAKE_WON) {
        if (failedAt !== 0) this.#lockWaitMs += performance.now() - failedAt
        return this.#take()
      }
      if (result !== TAKE_LOST) {
        if (failedAt !== 0) this.#lockWaitMs += performance.now() - failedAt
        return false
      }
      this.#contention++
      if (failedAt === 0) failedAt = performance.now()
    }
  }

  #search (): boolean {
    const state = this.#state
    const me = this.#me
    const n = this.#spec.workers
    state.addHungry(1)
    let spins = 0
    try {
      for (;;) {
        if (state.aborted || state.remaining <= 0 || Atomics.load(state.i32, this.#yieldAt) !== 0) return false
        // A lone thread has nobody to wait for: records still missing now will never come.
        if (n === 1) return false
        if (this.#stealing) {
          const start = (Math.random() * n) | 0
          const min = this.#spec.config.min_chunk_size
          let failedAt = 0
          // A round over the deques first, then over the current ranges of threads busy with a chunk.
          for (let k = 0; k < 2 * n; k++) {
            const victim = (start + k) % n
            if (victim === me) continue
            const result = k < n ? state.steal(victim) : state.stealRange(victim, min)
            if (result === TAKE_WON) {
              this.#stealsAttempted++
              this.#stealsWon++
              this.#ctrl.restart()
              if (failedAt !== 0) this.#lockWaitMs += performance.now() - failedAt
              return this.#take()
            }
            if (result === TAKE_LOST) {
              this.#stealsAttempted++
              this.#contention++
              if (failedAt === 0) failedAt = performance.now()
              k--
            }
          }
          if (failedAt !== 0) this.#lockWaitMs += performance.now() - failedAt
        } else {
          // thread_pool: a slot that gave its thread back keeps the rest of its claim for whoever adopts it.
          for (let w = 0; w < n; w++) if (w !== me && state.isIdle(w) && state.adopt(w, Infinity) === TAKE_WON) return this.#take()
        }
        if (++spins < SPIN_ROUNDS) continue
        spins = 0
        const epoch = state.epoch
        state.addSleepers(1)
        if (!state.aborted && state.remaining > 0 && (!this.#stealing || !state.stealable())) {
          state.sleep(me, epoch, PARK_TIMEOUT_MS)
        }
        state.addSleepers(-1)
      }
    } finally {
      state.addHungry(-1)
      this.#publishSteals()
    }
  }

  async #flush (): Promise<void> {
    this.#batchStart = performance.now()
    if (this.#batchRecords === 0) return
    const spec = this.#spec
    const ranges = this.#batchRanges
    let held = 0
    const message: CommitMessage = {
      type: 'commit',
      scanId: spec.scanId,
      workerId: this.#me,
      ranges,
      records: this.#batchRecords,
      items: 0,
      skipped: this.#batchSkipped,
      errors: this.#batchErrors
    }
    try {
      if (this.#aggregate !== undefined) {
        message.partial = JSON.stringify(this.#span.partial)
        this.#span.partial = this.#aggregate.create(spec.params)
      } else if (spec.ordered) {
        message.parts = this.#parts
        message.items = this.#batchItems
        held = this.#partBytes
        this.#parts = []
        this.#partBytes = 0
      } else {
        message.json = joinArrays(this.#parts)
        message.items = this.#batchItems
        if (this.#bounded && message.items > 0) held = message.json.length
        this.#parts = []
        this.#partBytes = 0
      }
    } catch (error) {
      throw new ScanFailure({ kind: 'json', offset: ranges[0], count: ranges[ranges.length - 2] - ranges[0], detail: describeError(error), cause: error })
    }
    const records = this.#batchRecords
    this.#batchRanges = []
    this.#span.items = []
    this.#batchRecords = 0
    this.#batchItems = 0
    this.#batchSkipped = 0
    this.#batchErrors = []
    const transit = this.#inTransit ? resultBytes(message) : 0
    if (transit !== 0) this.#awaitTransit(transit)
    if (held !== 0) this.#state.addHeldBytes(held)
    if (transit !== 0) this.#state.addTransitBytes(this.#me, transit)
    this.#options.post(message)
    this.#state.releaseProcessed(this.#me)
    this.#state.add(this.#me, STAT_POSTED, records)
    this.#state.commit(records)
    if (this.#options.afterFlush !== undefined) await this.#options.afterFlush()
  }

  /**
   * Holds the thread before it posts `bytes` of results while those posted before it and not yet
   * received would pass TRANSIT_BYTES with them (one message always goes). The calling thread
   * receives without waiting on anything, so this holds only as long as it is busy.
   */
  #awaitTransit (bytes: number): void {
    const state = this.#state
    for (;;) {
      const transit = state.transitBytes
      if (transit === 0 || transit + bytes <= TRANSIT_BYTES || state.aborted) return
      state.waitTransit(transit, PARK_TIMEOUT_MS)
    }
  }

  #publishSteals (): void {
    const p = this.#published
    this.#state.addSteals(this.#me, this.#stealsAttempted - p.attempted, this.#stealsWon - p.won, this.#contention - p.contention, this.#lockWaitMs - p.lockWaitMs)
    p.attempted = this.#stealsAttempted
    p.won = this.#stealsWon
    p.contention = this.#contention
    p.lockWaitMs = this.#lockWaitMs
  }

  #done (): DoneMessage {
    this.#publishSteals()
    const chunks = this.#chunkMs.count
    const metrics: WorkerMetrics = {
      worker_id: this.#me,
      chunks_processed: chunks,
      records_processed: this.#processed,
      avg_ms: this.#chunkMs.mean,
      p50_ms: this.#chunkMs.percentile(0.5),
      p95_ms: this.#chunkMs.percentile(0.95),
      p99_ms: this.#chunkMs.percentile(0.99),
      steals_attempted: this.#stealsAttempted,
      steals_successful: this.#stealsWon,
      max_local_queue_depth: this.#depthMax,
      avg_local_queue_depth: chunks === 0 ? 0 : this.#depthSum / chunks,
      lock_contention_events: this.#contention,
      time_waiting_on_lock_ms: this.#lockWaitMs
    }
    return {
      type: 'done',
      scanId: this.#spec.scanId,
      workerId: this.#me,
      metrics,
      histograms: { worker_id: this.#me, chunk_ms: this.#chunkMs.entries(), chunk_size: this.#chunkSize.entries() },
      feederDepthMax: this.#feederMax
    }
  }
}

async function callHook (name: string, hook: () => unknown): Promise<void> {
  try {
    await hook()
  } catch (error) {
    throw new ScanFailure({ kind: 'module', offset: -1, count: 0, detail: `${name} failed: ${describeError(error)}`, cause: error })
  }
}

function toFailure (error: unknown): ScanFailure {
  if (error instanceof ScanFailure) return error
  return new ScanFailure({ kind: 'module', offset: -1, count: 0, detail: describeError(error), cause: error })
}

function plainError (error: unknown): unknown {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    return { name: error.name, message: error.message, stack: error.stack, ...(typeof code === 'string' ? { code } : {}) }
  }
  return describeError(error)
}

/** What the per-record loop reads and writes; one object per runner, so the loop stays monomorphic. */
interface SpanState {
  process: TaskModule['process']
  collect: TaskModule['collect']
  params: unknown
  aggregate: Aggregator<unknown, unknown> | undefined
  items: unknown[]
  partial: unknown
  matched: number
  promise: Promise<unknown> | undefined
  error: unknown
  /** marks[mark] is 1 + the offset of the record in process(), for the main thread's record time limit. */
  marks: Int32Array
  mark: number
}

/**
 * Runs process over records[from, count). Returns count when done, or the
 * index where it stopped: process returned a promise (span.promise) or threw
 * (span.error). The try/catch sits in this wrapper because V8 runs a hot loop
 * inside a try block several times slower.
 */
function processSpan (span: SpanState, records: unknown[], lo: number, from: number, count: number): number {
  try {
    return processUnguarded(span, records, lo, from, count)
  } catch (error) {
    span.error = error
    // The record that threw is the one marked last.
    return span.marks[span.mark] - 1 - lo
  }
}

function processUnguarded (span: SpanState, records: unknown[], lo: number, from: number, count: number): number {
  const process = span.process
  const params = span.params
  const items = span.items
  const aggregate = span.aggregate
  const marks = span.marks
  const mark = span.mark
  for (let i = from; i < count; i++) {
    marks[mark] = lo + i + 1
    const value = process(records[i], params, lo + i)
    if (value === null || value === undefined) continue
    if (value instanceof Promise) {
      span.promise = value
      return i
    }
    span.matched++
    if (aggregate === undefined) items.push(value)
    else span.partial = aggregate.add(span.partial, value, params)
  }
  return count
}

/**
 * Hands over records[from, count) through the module's collect; returns count when done, or the
 * index of the record that process must see.
 */
function collectSpan (span: SpanState, records: unknown[], lo: number, from: number, count: number): number {
  const items = span.items
  const before = items.length
  const stop = (span.collect as NonNullable<TaskModule['collect']>)(records, span.params, from, items)
  span.matched += items.length - before
  if (Number.isInteger(stop) && stop >= from && stop <= count) return stop
  throw new ScanFailure({ kind: 'module', offset: lo + from, count: count - from, detail: `collect returned ${String(stop)}, not an index in [${from}, ${count}]` })
}

/** The JSON arrays of `parts` as one JSON array. */
function joinArrays (parts: string[]): string {
  if (parts.length === 1) return parts[0]
  let json = ''
  for (const part of parts) {
    if (part.length > 2) json += (json.length === 0 ? '' : ',') + part.slice(1, -1)
  }
  return '[' + json + ']'
}
