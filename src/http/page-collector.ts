/**
 * The items of one results page, taken from stored pages (JSON array texts) up to `limit` items
 * and `maxBytes` bytes of JSON; the first item is taken whatever its size.
 */
export class PageCollector {
  readonly #limit: number
  readonly #maxBytes: number
  readonly #parts: string[] = []
  #taken = 0
  #bytes = 0
  #full = false

  constructor (limit: number, maxBytes: number) {
    this.#limit = limit
    this.#maxBytes = maxBytes
  }

  /** Items the page can still take. */
  get room (): number { return this.#full ? 0 : this.#limit - this.#taken }
  get taken (): number { return this.#taken }
  /** The page reached `maxBytes`. */
  get full (): boolean { return this.#full }

  /** Takes up to `count` items of `items` (the stored page `text`, parsed) from `offset` on; returns how many it took. */
  take (text: string, items: unknown[], offset: number, count: number): number {
    const n = Math.min(count, this.room, items.length - offset)
    if (n <= 0) return 0
    const size = Buffer.byteLength(text)
    if (n === items.length - offset && this.#bytes + size <= this.#maxBytes) {
      this.#parts.push(offset === 0 ? text.slice(1, -1) : items.slice(offset).map((item) => JSON.stringify(item)).join(','))
      this.#taken += n
      this.#bytes += size
      return n
    }
    const texts: string[] = []
    for (let i = offset; i < offset + n; i++) {
      const item = JSON.stringify(items[i])
      const itemBytes = Buffer.byteLength(item) + 1
      if (this.#taken > 0 && this.#bytes + itemBytes > this.#maxBytes) {
        this.#full = true
        break
      }
      texts.push(item)
      this.#taken++
      this.#bytes += itemBytes
    }
    if (texts.length > 0) this.#parts.push(texts.join(','))
    return texts.length
  }

  /** The items taken, as a JSON array. */
  get json (): string {
    return `[${this.#parts.join(',')}]`
  }
}
