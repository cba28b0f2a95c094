const PAGE = 65536
const EMPTY = new Float64Array(0)

/**
 * A growable list of byte offsets (doubles: files may exceed 4 GiB), in pages of 64 Ki offsets
 * (512 KiB): growing never copies, and holds at most one page more than the offsets.
 */
export class OffsetList {
  readonly #pages: Float64Array[] = []
  #page = EMPTY
  #fill = 0
  length = 0

  push (value: number): void {
    if (this.#fill === this.#page.length) this.#grow()
    this.#page[this.#fill++] = value
    this.length++
  }

  /** Appends `values[0, count)`. */
  append (values: Float64Array, count: number): void {
    for (let at = 0; at < count;) {
      if (this.#fill === this.#page.length) this.#grow()
      const take = Math.min(count - at, this.#page.length - this.#fill)
      this.#page.set(values.subarray(at, at + take), this.#fill)
      this.#fill += take
      at += take
    }
    this.length += count
  }

  #grow (): void {
    this.#page = new Float64Array(PAGE)
    this.#pages.push(this.#page)
    this.#fill = 0
  }

  get (index: number): number {
    return this.#pages[Math.floor(index / PAGE)][index % PAGE]
  }

  /**
   * Offsets [from, length) moved into a SharedArrayBuffer: each page is let go as soon as it is copied
   * (the garbage collector may take it back before the copy ends). The list is empty afterwards.
   */
  toShared (from = 0): SharedArrayBuffer {
    const shared = new SharedArrayBuffer(Math.max(0, this.length - from) * 8)
    const target = new Float64Array(shared)
    const first = Math.floor(from / PAGE)
    let at = 0
    for (let page = 0; page < this.#pages.length; page++) {
      if (page >= first && at < target.length) {
        const begin = page === first ? from % PAGE : 0
        const values = this.#pages[page].subarray(begin, Math.min(PAGE, begin + target.length - at))
        target.set(values, at)
        at += values.length
      }
      this.#pages[page] = EMPTY
    }
    this.#pages.length = 0
    this.#page = EMPTY
    this.#fill = 0
    this.length = 0
    return shared
  }
}
