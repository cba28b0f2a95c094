/** Sub-buckets per power of two: values are kept within about 4.4% of their true value. */
const SUB_BUCKETS = 8
const BUCKETS = 64 * SUB_BUCKETS

/**
 * A bounded histogram of positive values in logarithmic buckets, cheap
 * enough to record every chunk (one Math.log2 and one array increment).
 * Exact count, sum, min and max are kept beside the buckets.
 */
export class LogHistogram {
  readonly #counts = new Float64Array(BUCKETS)
  #count = 0
  #sum = 0
  #min = Infinity
  #max = 0

  get count (): number { return this.#count }
  get sum (): number { return this.#sum }
  get min (): number { return this.#count === 0 ? 0 : this.#min }
  get max (): number { return this.#max }
  get mean (): number { return this.#count === 0 ? 0 : this.#sum / this.#count }

  record (value: number, times = 1): void {
    const v = value > 0 ? value : 0
    this.#counts[bucketOf(v)] += times
    this.#count += times
    this.#sum += v * times
    if (v < this.#min) this.#min = v
    if (v > this.#max) this.#max = v
  }

  /** Value at quantile q in [0, 1], clamped to the observed [min, max]; 0 when empty. */
  percentile (q: number): number {
    if (this.#count === 0) return 0
    const rank = Math.max(1, Math.ceil(q * this.#count))
    let seen = 0
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i]
      if (seen >= rank) return Math.min(this.#max, Math.max(this.#min, valueOf(i)))
    }
    return this.#max
  }

  /** Non-empty buckets as [representative value, count], ascending. */
  entries (): Array<[number, number]> {
    const out: Array<[number, number]> = []
    for (let i = 0; i < BUCKETS; i++) {
      if (this.#counts[i] > 0) out.push([Math.min(this.#max, Math.max(this.#min, valueOf(i))), this.#counts[i]])
    }
    return out
  }
}

/** Bucket 0 holds values below 2^-16 (or zero); bucket i covers [2^((i-1)/8 - 16), 2^(i/8 - 16)). */
function bucketOf (v: number): number {
  if (v < 1.52587890625e-5) return 0
  const i = Math.floor((Math.log2(v) + 16) * SUB_BUCKETS) + 1
  return i < BUCKETS ? i : BUCKETS - 1
}

function valueOf (i: number): number {
  if (i === 0) return 0
  return 2 ** ((i - 0.5) / SUB_BUCKETS - 16)
}
