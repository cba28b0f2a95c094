import { AttemptSupersededError } from '../src/errors.js'

const MAX_PENDING_BYTES = 8 * 1024 * 1024

/** Writes result pages in order, several per store call, without making the engine wait on each write. */
export class PageWriter {
  readonly #append: (pages: string[]) => Promise<boolean>
  readonly #id: string
  readonly #onSuperseded: () => void
  #pending: string[] = []
  #pendingBytes = 0
  #writing: Promise<void> = Promise.resolve()
  #failure: unknown

  /** `append` stores pages of the attempt, false once it is superseded. */
  constructor (id: string, append: (pages: string[]) => Promise<boolean>, onSuperseded: () => void) {
    this.#id = id
    this.#append = append
    this.#onSuperseded = onSuperseded
  }

  async push (page: string): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure
    this.#pending.push(page)
    this.#pendingBytes += page.length
    if (this.#pending.length === 1) this.#writing = this.#writing.then(() => this.#write())
    if (this.#pendingBytes > MAX_PENDING_BYTES) await this.#writing
  }

  async flush (): Promise<void> {
    if (this.#pending.length > 0) this.#writing = this.#writing.then(() => this.#write())
    await this.#writing
    if (this.#failure !== undefined) throw this.#failure
  }

  async settle (): Promise<void> {
    await this.#writing.catch(() => {})
  }

  async #write (): Promise<void> {
    if (this.#pending.length === 0 || this.#failure !== undefined) return
    const pages = this.#pending
    this.#pending = []
    this.#pendingBytes = 0
    try {
      if (!await this.#append(pages)) {
        this.#failure = new AttemptSupersededError(this.#id)
        this.#onSuperseded()
      }
    } catch (error) {
      this.#failure = error
    }
  }
}
