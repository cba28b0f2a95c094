import type { SharedScanState } from './shared-scan-state.js'
import type { Aggregator, ResultBatch } from './types.js'
import { resultBytes, type CommitMessage } from './worker-protocol.js'

export interface ResultSinkOptions {
  /**
   * Deliver in source order.
   * @defaultValue false
   */
  ordered?: boolean
  /**
   * Ordered: called in order once every record below `front` has been handed
   * over (onBatch resolved, or parsed into `results`), with the JSON length
   * of the ranges that handing over covered.
   * @defaultValue none
   */
  release?: (front: number, bytes: number) => void
  /**
   * Unordered: called with the JSON length of each page once it has been handed over.
   * @defaultValue none
   */
  releaseBytes?: (bytes: number) => void
  /**
   * Told of the JSON length of the results of each commit that comes in, by slot at once and in
   * all once the calling thread turns to timers and I/O again (see TRANSIT_BYTES).
   * @defaultValue none
   */
  transit?: Pick<SharedScanState, 'receivedFrom' | 'receivedBytes'>
  /**
   * Receives pages; when absent, results are parsed and kept for `results`.
   * @defaultValue none
   */
  onBatch?: (batch: ResultBatch) => void | Promise<void>
  /**
   * Folds partial states instead of passing results.
   * @defaultValue none
   */
  aggregate?: Aggregator<unknown, unknown>
  /**
   * Passed to the aggregator.
   * @defaultValue undefined
   */
  params?: unknown
  /** Called once when onBatch throws or rejects. */
  onError: (error: unknown) => void
}

interface Pending { end: number, json: string, items: number }

/** A page waiting to be parsed into `results`; a release only when `json` is undefined. */
interface Parse { json: string | undefined, handedOver: () => void }

const noRelease = (): void => {}

/** Longest the calling thread parses pages in one go before timers and I/O get their turn. */
const PARSE_SLICE_MS = 8
/** Parsed pages with fewer values are copied into a shared block instead of kept as blocks of their own. */
const SMALL_PAGE = 4096
/** Values a shared block takes before the next one starts. */
const BLOCK_VALUES = 65_536
/** Blocks joined by one concat call (its arguments go on the stack). */
const CONCAT_ARGS = 4096

/**
 * The main-thread end of result transport. Unordered pages pass through as
 * the JSON text the worker made; ordered ones wait, keyed by offset, until
 * every range before them has come, and are released (see `release`) once
 * handed over. Pages for `onBatch` are delivered one at a time; without it,
 * pages are parsed as they arrive.
 */
export class ResultSink {
  readonly #options: ResultSinkOptions
  readonly #pending = new Map<number, Pending>()
  #next = 0
  #chain: Promise<void> = Promise.resolve()
  #failed = false
  #closed = false
  #state: unknown
  #parses: Parse[] = []
  #parsed = 0
  /*
   * Parsed values in order, as blocks joined once at the end: a single array grown value by
   * value is copied to a new, larger store each time it fills up, and the copies of a large one
   * (a hundred MB and more, with a page fault for every 4 KiB of it) would hold the event loop
   * for hundreds of ms, far past a slice.
   */
  #blocks: unknown[][] = []
  #block: unknown[] = []
  #results: unknown[] | undefined
  /** JSON of results received since the calling thread last turned to timers and I/O. */
  #received = 0

  constructor (options: ResultSinkOptions) {
    this.#options = options
    if (options.aggregate !== undefined) this.#state = options.aggregate.create(options.params)
  }

  /** The results parsed, in the order handed over (source order when ordered); read once every page has been. */
  get results (): unknown[] {
    if (this.#results === undefined) {
      this.#endBlock()
      this.#results = concatBlocks(this.#blocks)
      this.#blocks = []
    }
    return this.#results
  }

  /** Adds the partial aggregate state of a flush. */
  addPartial (json: string): void {
    const aggregate = this.#options.aggregate
    if (aggregate === undefined) return
    this.#state = aggregate.merge(this.#state, JSON.parse(json), this.#options.params)
  }

  /** The aggregator's final rows. */
  finish (): unknown[] {
    const aggregate = this.#options.aggregate
    return aggregate === undefined ? [] : aggregate.finish(this.#state, this.#options.params)
  }

  /** The results of a commit: a partial aggregate state, ordered ranges or an unordered page. */
  addCommit (message: CommitMessage): void {
    if (this.#options.transit !== undefined) this.#receive(message.workerId, resultBytes(message))
    if (message.partial !== undefined) this.addPartial(message.partial)
    else if (this.#options.ordered ?? false) this.addRanges(message.ranges, message.parts)
    else if (message.json !== undefined) this.addPage(message.json, message.items)
  }

  /*
   * The calling thread takes in the messages waiting for it in one go, up to a thousand and more
   * as long as more come, and turns to timers and I/O only after the last: the bytes received
   * are handed back to the threads once that is over, so that they do not keep the queue filled
   * meanwhile.
   */
  #receive (slot: number, bytes: number): void {
    if (bytes === 0) return
    this.#options.transit?.receivedFrom(slot, bytes)
    this.#received += bytes
    if (this.#received !== bytes) return
    setImmediate(() => {
      const received = this.#received
      this.#received = 0
      this.#options.transit?.receivedBytes(received)
    })
  }

  /** An unordered page. */
  addPage (json: string, items: number): void {
    if (items === 0) return
    const releaseBytes = this.#options.releaseBytes
    this.#deliver(json, items, releaseBytes === undefined ? noRelease : () => releaseBytes(json.length))
  }

  /** Ranges as flat [offset, end, items] triples with one JSON text each. */
  addRanges (ranges: number[], parts: string[] | undefined): void {
    if (!(this.#options.ordered ?? false)) return
    for (let r = 0, p = 0; r < ranges.length; r += 3, p++) {
      this.#pending.set(ranges[r], { end: ranges[r + 1], json: parts?.[p] ?? '[]', items: ranges[r + 2] })
    }
    const texts: string[] = []
    let items = 0
    let bytes = 0
    const from = this.#next
    for (let next = this.#pending.get(this.#next); next !== undefined; next = this.#pending.get(this.#next)) {
      this.#pending.delete(this.#next)
      this.#next = next.end
      bytes += next.json.length
      if (next.items > 0) {
        texts.push(next.json)
        items += next.items
      }
    }
    if (this.#next === from) return
    const front = this.#next
    const release = this.#options.release ?? noRelease
    if (this.#options.onBatch === undefined) {
      // Each range's text is parsed on its own: joining them would copy every byte once more, in the message handler.
      if (texts.length === 0 && this.#parses.length === 0) return release(front, bytes)
      for (let t = 0; t < texts.length - 1; t++) this.#parseLater(texts[t], noRelease)
      this.#parseLater(texts.length > 0 ? texts[texts.length - 1] : undefined, () => release(front, bytes))
      return
    }
    if (items === 0) {
      this.#chain = this.#chain.then(() => release(front, bytes))
      return
    }
    this.#deliver(texts.length === 1 ? texts[0] : `[${texts.map(t => t.slice(1, -1)).join(',')}]`, items, () => release(front, bytes))
  }

  /** Hands over no more pages, also none already waiting for onBatch or to be parsed. */
  close (): void {
    this.#closed = true
  }

  /** The scan will not resolve: pages still waiting to be parsed are dropped, and so are those to come and the values parsed. */
  discardResults (): void {
    if (this.#options.onBatch !== undefined) return
    this.#closed = true
    this.#blocks = []
    this.#block = []
  }

  /** Resolves when every page has been handed over. */
  drained (): Promise<void> {
    return this.#chain
  }

  #deliver (json: string, items: number, handedOver: () => void = noRelease): void {
    const onBatch = this.#options.onBatch
    if (onBatch === undefined) return this.#parseLater(json, handedOver)
    if (this.#failed || this.#closed) return
    this.#chain = this.#chain.then(async () => {
      if (this.#closed) return
      await onBatch({ json, items })
      handedOver()
    }).catch((error: unknown) => {
      if (!this.#failed) {
        this.#failed = true
        this.#options.onError(error)
      }
    })
  }

  /*
   * Pages arrive faster than they parse when results are many: parsing them
   * in the message handler would keep the event loop from timers and I/O for
   * as long as the window of held bytes takes. They are parsed in slices.
   */
  #parseLater (json: string | undefined, handedOver: () => void): void {
    if (this.#closed) return
    this.#parses.push({ json, handedOver })
    if (this.#parses.length > 1) return
    this.#chain = this.#chain.then(() => new Promise<void>(resolve => setImmediate(() => this.#parseSlice(resolve))))
  }

  #parseSlice (done: () => void): void {
    const parses = this.#parses
    const until = performance.now() + PARSE_SLICE_MS
    try {
      while (!this.#closed && this.#parsed < parses.length) {
        const { json, handedOver } = parses[this.#parsed]
        parses[this.#parsed++] = undefined as unknown as Parse
        if (json !== undefined) this.#keep(JSON.parse(json) as unknown[])
        handedOver()
        if (performance.now() >= until && this.#parsed < parses.length) {
          setImmediate(() => this.#parseSlice(done))
          return
        }
      }
    } catch (error) {
      // Not in a message handler that would catch it: the scan fails instead of the process.
      this.#closed = true
      this.#options.onError(error)
    }
    this.#parses = []
    this.#parsed = 0
    done()
  }

  #keep (values: unknown[]): void {
    if (values.length >= SMALL_PAGE) {
      this.#endBlock()
      this.#blocks.push(values)
      return
    }
    const block = this.#block
    for (let i = 0; i < values.length; i++) block.push(values[i])
    if (block.length >= BLOCK_VALUES) this.#endBlock()
  }

  #endBlock (): void {
    if (this.#block.length === 0) return
    this.#blocks.push(this.#block)
    this.#block = []
  }
}

/** The values of `blocks` in one array: one allocation of the final size, not one per growth. */
export function concatBlocks (blocks: unknown[][]): unknown[] {
  while (blocks.length > CONCAT_ARGS) {
    const joined: unknown[][] = []
    for (let b = 0; b < blocks.length; b += CONCAT_ARGS) joined.push(([] as unknown[]).concat(...blocks.slice(b, b + CONCAT_ARGS)))
    blocks = joined
  }
  if (blocks.length === 1) return blocks[0]
  return ([] as unknown[]).concat(...blocks)
}
