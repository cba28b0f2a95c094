import { Histogram, type Registry } from 'prom-client'

export interface BucketedHistogramOptions {
  name: string
  help: string
  /** Upper bounds, ascending; +Inf is added. */
  buckets: number[]
  registers: Registry[]
}

interface Series {
  workerId: string
  /** Observations per bucket (not cumulative), the last one for +Inf. */
  counts: number[]
  sum: number
  count: number
}

/**
 * A Prometheus histogram by `worker_id` that is fed counts per bucket and an
 * exact sum, as the engine's threads keep them, instead of one observation
 * at a time. Values come as [upper bound, count] pairs of finer buckets; each
 * lands in the first bound at or above its own upper bound, so a value is
 * never counted below a bound it exceeds.
 */
export class BucketedHistogram extends Histogram<'worker_id'> {
  readonly #name: string
  readonly #help: string
  readonly #bounds: number[]
  readonly #series = new Map<string, Series>()

  constructor (options: BucketedHistogramOptions) {
    super({ name: options.name, help: options.help, labelNames: ['worker_id'], buckets: options.buckets, registers: options.registers })
    this.#name = options.name
    this.#help = options.help
    this.#bounds = options.buckets
  }

  /** Adds observations: `buckets` as [upper bound, count] pairs, with their exact `sum`; `scale` converts a bound into this histogram's unit. */
  add (workerId: string, buckets: Array<[number, number]>, sum: number, scale = 1): void {
    let series = this.#series.get(workerId)
    if (series === undefined) {
      series = { workerId, counts: new Array<number>(this.#bounds.length + 1).fill(0), sum: 0, count: 0 }
      this.#series.set(workerId, series)
    }
    for (const [bound, count] of buckets) {
      const value = bound * scale
      let i = 0
      while (i < this.#bounds.length && value > this.#bounds[i]) i++
      series.counts[i] += count
      series.count += count
    }
    series.sum += sum
  }

  override async get (): Promise<Awaited<ReturnType<Histogram<'worker_id'>['get']>>> {
    return await this.getForPromString()
  }

  async getForPromString (): Promise<Awaited<ReturnType<Histogram<'worker_id'>['get']>>> {
    const values: Array<{ labels: Record<string, string | number>, value: number, metricName: string }> = []
    for (const series of this.#series.values()) {
      let cumulative = 0
      this.#bounds.forEach((bound, i) => {
        cumulative += series.counts[i]
        values.push({ labels: { le: bound, worker_id: series.workerId }, value: cumulative, metricName: `${this.#name}_bucket` })
      })
      values.push({ labels: { le: '+Inf', worker_id: series.workerId }, value: series.count, metricName: `${this.#name}_bucket` })
      values.push({ labels: { worker_id: series.workerId }, value: series.sum, metricName: `${this.#name}_sum` })
      values.push({ labels: { worker_id: series.workerId }, value: series.count, metricName: `${this.#name}_count` })
    }
    return { name: this.#name, help: this.#help, type: 'histogram', aggregator: 'sum', values } as unknown as Awaited<ReturnType<Histogram<'worker_id'>['get']>>
  }

  override reset (): void {
    // The base constructor resets before this class's fields exist.
    if (#series in this) this.#series.clear()
  }
}
