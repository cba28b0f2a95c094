import type { ScanPlan } from '../src/pipeline/plan-scan.js'

/**
 * Plans of the scans whose partitions run on this instance, so that each partition does not check
 * the request and look the file's index up again, and runs on the index its scan was split on.
 * Holds at most `maxPlans` plans, the least recently used going first; a plan that fails is not kept.
 */
export class ScanPlanCache {
  readonly #plans = new Map<string, Promise<ScanPlan>>()
  readonly #maxPlans: number

  /** @param maxPlans - plans kept at most; @defaultValue 4 */
  constructor (maxPlans = 4) {
    this.#maxPlans = Math.max(1, maxPlans)
  }

  get size (): number { return this.#plans.size }

  /** Plans scan `id` anew (a new attempt of the whole scan, a partition run again) and keeps the plan. */
  async fresh (id: string, plan: () => Promise<ScanPlan>): Promise<ScanPlan> {
    this.#plans.delete(id)
    return await this.#keep(id, plan())
  }

  /** The kept plan of scan `id`, else a new one, kept. */
  async get (id: string, plan: () => Promise<ScanPlan>): Promise<ScanPlan> {
    const kept = this.#plans.get(id)
    if (kept === undefined) return await this.#keep(id, plan())
    this.#plans.delete(id)
    this.#plans.set(id, kept)
    return await kept
  }

  forget (id: string): void {
    this.#plans.delete(id)
  }

  async #keep (id: string, planned: Promise<ScanPlan>): Promise<ScanPlan> {
    this.#plans.set(id, planned)
    while (this.#plans.size > this.#maxPlans) this.#plans.delete(this.#plans.keys().next().value as string)
    try {
      return await planned
    } catch (error) {
      if (this.#plans.get(id) === planned) this.#plans.delete(id)
      throw error
    }
  }
}
