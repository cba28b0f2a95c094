/**
 * Half-open integer intervals [start, end), kept as a flat list and merged
 * lazily: adding is O(1), compaction sorts and joins neighbours.
 */
export class IntervalSet {
  #flat: number[] = []
  #size = 0
  #compactAt = 1024

  /** Records covered, counting overlaps twice (callers add disjoint intervals). */
  get size (): number {
    return this.#size
  }

  add (start: number, end: number): void {
    if (end <= start) return
    const flat = this.#flat
    const n = flat.length
    if (n !== 0 && flat[n - 1] === start) flat[n - 1] = end
    else flat.push(start, end)
    this.#size += end - start
    if (flat.length >= this.#compactAt) {
      this.#compact()
      this.#compactAt = Math.max(1024, this.#flat.length * 2)
    }
  }

  /** The parts of [0, total) not covered, as [start, end) pairs. */
  complement (total: number): Array<[number, number]> {
    this.#compact()
    const out: Array<[number, number]> = []
    let at = 0
    const flat = this.#flat
    for (let i = 0; i < flat.length; i += 2) {
      if (flat[i] > at) out.push([at, Math.min(flat[i], total)])
      if (flat[i + 1] > at) at = flat[i + 1]
    }
    if (at < total) out.push([at, total])
    return out
  }

  #compact (): void {
    const pairs: Array<[number, number]> = []
    const flat = this.#flat
    for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i], flat[i + 1]])
    pairs.sort((a, b) => a[0] - b[0])
    const merged: number[] = []
    for (const [s, e] of pairs) {
      const m = merged.length
      if (m !== 0 && s <= merged[m - 1]) merged[m - 1] = Math.max(merged[m - 1], e)
      else merged.push(s, e)
    }
    this.#flat = merged
  }
}

/** The parts of the sorted, disjoint `ranges` that no range of `cut` covers. */
export function subtractRanges (ranges: Array<[number, number]>, cut: Array<[number, number]>): Array<[number, number]> {
  const holes = cut.slice().sort((a, b) => a[0] - b[0])
  const out: Array<[number, number]> = []
  for (const [start, end] of ranges) {
    let at = start
    for (const [s, e] of holes) {
      if (e <= at) continue
      if (s >= end) break
      if (s > at) out.push([at, s])
      at = e
      if (at >= end) break
    }
    if (at < end) out.push([at, end])
  }
  return out
}

/** The parts of `ranges` that the sorted, disjoint `within` covers. */
export function intersectRanges (ranges: Array<[number, number]>, within: Array<[number, number]>): Array<[number, number]> {
  const out: Array<[number, number]> = []
  for (const [start, end] of ranges) {
    for (const [s, e] of within) {
      if (e <= start) continue
      if (s >= end) break
      out.push([Math.max(s, start), Math.min(e, end)])
    }
  }
  return out
}

/** Records in `ranges`. */
export function rangeSize (ranges: Array<[number, number]>): number {
  let n = 0
  for (const [s, e] of ranges) n += e - s
  return n
}
