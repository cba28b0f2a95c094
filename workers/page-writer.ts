import { AttemptSupersededError } from '../src/errors.js'
import { splitJsonArray } from '../src/store/json-array-items.js'

const MAX_PENDING_BYTES = 8 * 1024 * 1024
/**
 * Longest page stored, in characters (one larger result is a page of its own): readers load whole
 * pages, so this bounds what a results page or a download holds in memory whatever the engine's batches.
 */
export const STORED_PAGE_CHARS = 256 * 1024

/** Writes result pages in order, several per store call, without making the engine wait on each write. */
export class PageWriter {
  readonly #append: (pages: string[]) => Promise<boolean>
  readonly #id: string
  readonly #onSuperseded: () => void
  readonly #onWritten: (items: number) => void
  #pending: string[] = []
  #pendingItems = 0
  #pendingBytes = 0
  #writing: Promise<void> = Promise.resolve()
  #failure: unknown

  /**
   * `append` stores pages of the attempt, false once it is superseded; `onWritten` hears how many
   * results each successful append stored.
   */
  constructor (id: string, append: (pages: string[]) => Promise<boolean>, onSuperseded: () => void, onWritten: (items: number) => void = () => {}) {
    this.#id = id
    this.#append = append
    this.#onSuperseded = onSuperseded
    this.#onWritten = onWritten
  }

  /** Queues a page of `items` results, cut at STORED_PAGE_CHARS; waits while more than MAX_PENDING_BYTES wait to be written. */
  async push (page: string, items = 0): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure
    const idle = this.#pending.length === 0
    for (const part of splitJsonArray(page, STORED_PAGE_CHARS)) this.#pending.push(part)
    this.#pendingItems += items
    this.#pendingBytes += page.length
    if (idle) this.#writing = this.#writing.then(() => this.#write())
    if (this.#pendingBytes > MAX_PENDING_BYTES) await this.#writing
  }

  async flush (): Promise<void> {
    if (this.#pending.length > 0) this.#writing = this.#writing.then(() => this.#write())
    await this.#writing
    if (this.#failure !== undefined) throw this.#failure
  }

  async settle (): Promise<void> {
    // A failed write is kept in #failure, which flush() throws; settle() only waits for the writes to end.
    await this.#writing.catch(() => {})
  }

  async #write (): Promise<void> {
    if (this.#pending.length === 0 || this.#failure !== undefined) return
    const pages = this.#pending
    const items = this.#pendingItems
    this.#pending = []
    this.#pendingItems = 0
    this.#pendingBytes = 0
    try {
      if (await this.#append(pages)) {
        this.#onWritten(items)
      } else {
        this.#failure = new AttemptSupersededError(this.#id)
        this.#onSuperseded()
      }
    } catch (error) {
      this.#failure = error
    }
  }
}
