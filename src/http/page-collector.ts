/**
 * The items of one results page, taken from stored pages (JSON array texts) up to `limit` items
 * and `maxBytes` bytes of JSON; the first item is taken whatever its size.
 */
export class PageCollector {
  readonly items: unknown[] = []
  readonly #limit: number
  readonly #maxBytes: number
  #bytes = 0
  #full = false

  constructor (limit: number, maxBytes: number) {
    this.#limit = limit
    this.#maxBytes = maxBytes
  }

  /** Items the page can still take. */
  get room (): number { return this.#full ? 0 : this.#limit - this.items.length }

  /** Takes up to `count` items of `items` (the stored page `text`, parsed) from `offset` on; returns how many it took. */
  take (text: string, items: unknown[], offset: number, count: number): number {
    const n = Math.min(count, this.room, items.length - offset)
    if (n <= 0) return 0
    const size = Buffer.byteLength(text)
    if (n === items.length - offset && this.#bytes + size <= this.#maxBytes) {
      for (let i = offset; i < items.length; i++) this.items.push(items[i])
      this.#bytes += size
      return n
    }
    let i = offset
    for (; i < offset + n; i++) {
      const itemBytes = Buffer.byteLength(JSON.stringify(items[i])) + 1
      if (this.items.length > 0 && this.#bytes + itemBytes > this.#maxBytes) {
        this.#full = true
        break
      }
      this.items.push(items[i])
      this.#bytes += itemBytes
    }
    return i - offset
  }
}
