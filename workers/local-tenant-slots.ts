/**
 * Scan jobs this instance runs, by tenant. A job may start while fewer than `concurrency` run here, or
 * when its tenant runs nothing here: the queue gives the instance one slot more than `concurrency`,
 * so that a tenant whose jobs fill the instance cannot keep another tenant's job waiting.
 */
export class LocalTenantSlots {
  readonly #concurrency: number
  readonly #running = new Map<string | undefined, number>()
  #total = 0

  constructor (concurrency: number) {
    this.#concurrency = concurrency
  }

  /** A release for the job of `tenant` that may start now, or undefined: put it back behind the others. */
  take (tenant: string | undefined): (() => void) | undefined {
    const mine = this.#running.get(tenant) ?? 0
    if (this.#total >= this.#concurrency && mine > 0) return undefined
    this.#running.set(tenant, mine + 1)
    this.#total++
    let released = false
    return () => {
      if (released) return
      released = true
      this.#total--
      const left = (this.#running.get(tenant) ?? 1) - 1
      if (left === 0) this.#running.delete(tenant)
      else this.#running.set(tenant, left)
    }
  }
}
