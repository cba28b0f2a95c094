import type { Aggregator, ResultBatch } from './types.js'

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

/**
 * The main-thread end of result transport. Unordered pages pass through as
 * the JSON text the worker made; ordered ones wait, keyed by offset, until
 * every range before them has come, and are released (see `release`) once
 * handed over. Pages for `onBatch` are delivered one at a time; without it,
 * pages are parsed as they arrive.
 */
export class ResultSink {
  /** Parsed pages, joined into one array when `results` is first read. */
  #pages: unknown[][] = []
  #count = 0
  readonly #options: ResultSinkOptions
  readonly #pending = new Map<number, Pending>()
  #next = 0
  #chain: Promise<void> = Promise.resolve()
  #failed = false
  #closed = false
  #state: unknown
  #parses: Parse[] = []
  #parsed = 0

  constructor (options: ResultSinkOptions) {
    this.#options = options
    if (options.aggregate !== undefined) this.#state = options.aggregate.create(options.params)
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
    if (items === 0) {
      if (this.#options.onBatch !== undefined) this.#chain = this.#chain.then(() => release(front, bytes))
      else if (this.#parses.length === 0) release(front, bytes)
      else this.#parseLater(undefined, () => release(front, bytes))
      return
    }
    this.#deliver(texts.length === 1 ? texts[0] : `[${texts.map(t => t.slice(1, -1)).join(',')}]`, items, () => release(front, bytes))
  }

  /** Every result parsed, in the order the pages came. */
  get results (): unknown[] {
    const pages = this.#pages
    if (pages.length === 1) return pages[0]
    // One array of the final size: pushing page after page would copy it at every growth.
    const all = new Array<unknown>(this.#count)
    let k = 0
    for (const page of pages) for (let i = 0; i < page.length; i++) all[k++] = page[i]
    this.#pages = [all]
    return all
  }

  /** Hands over no more pages, also none already waiting for onBatch or to be parsed. */
  close (): void {
    this.#closed = true
  }

  /** The scan will not resolve: pages still waiting to be parsed are dropped, and so are those to come. */
  discardResults (): void {
    if (this.#options.onBatch === undefined) this.#closed = true
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
    while (!this.#closed && this.#parsed < parses.length) {
      const { json, handedOver } = parses[this.#parsed]
      parses[this.#parsed++] = undefined as unknown as Parse
      if (json !== undefined) {
        const values = JSON.parse(json) as unknown[]
        this.#pages.push(values)
        this.#count += values.length
      }
      handedOver()
      if (performance.now() >= until && this.#parsed < parses.length) {
        setImmediate(() => this.#parseSlice(done))
        return
      }
    }
    this.#parses = []
    this.#parsed = 0
    done()
  }
}
