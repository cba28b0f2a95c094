/** A boundary every this many pages at least... */
const POINT_PAGES = 256
/** ...or every this many bytes, whichever comes first. */
const POINT_BYTES = 256 * 1024

/**
 * Where pages start in a page file (one page a line), sparsely: a point every 256 pages or
 * 256 KiB, so that a read seeks near its first page and scans less than that to reach it. Memory:
 * 16 bytes a point, whatever the pages.
 */
export class PageIndex {
  /** Pairs of page number and byte offset, both increasing. */
  readonly #points: number[] = [0, 0]
  /** Pages whose end is known, and the byte where the last of them ends. */
  #pages = 0
  #bytes = 0

  get pages (): number { return this.#pages }
  get bytes (): number { return this.#bytes }

  /** The page that ends at `offset` is page `page - 1`; extends the index when it is the next one. */
  passed (page: number, offset: number): void {
    if (page !== this.#pages + 1) return
    this.#pages = page
    this.#bytes = offset
    const last = this.#points.length - 2
    if (page - this.#points[last] >= POINT_PAGES || offset - this.#points[last + 1] >= POINT_BYTES) this.#points.push(page, offset)
  }

  /** The nearest known page boundary at or before page `page`: [page, byte offset]. */
  seek (page: number): [number, number] {
    if (page >= this.#pages) return [this.#pages, this.#bytes]
    let low = 0
    let high = this.#points.length / 2 - 1
    while (low < high) {
      const mid = (low + high + 1) >> 1
      if (this.#points[mid * 2] <= page) low = mid
      else high = mid - 1
    }
    return [this.#points[low * 2], this.#points[low * 2 + 1]]
  }
}
