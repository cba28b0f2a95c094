import type { StorageCharge, StorageUsage, StoredCharge } from './storage-charge.js'
import { scanOfUnit } from './storage-charge.js'

interface Held {
  tenant: string | undefined
  attempt: string
  bytes: number
}

/**
 * Bytes of stored results per tenant in the embedded store. The store drops a scan's charges when
 * it drops the scan (deleted, or its retention is over); a unit's charges of an earlier attempt
 * are dropped by the first charge of the next one.
 */
export class MemoryStorageCharges {
  readonly #used = new Map<string | undefined, number>()
  /** Charge units by scan. */
  readonly #scans = new Map<string, Map<string, Held>>()
  readonly #expiresAt: (id: string) => number | null

  /** `expiresAt`: when a scan's retention ends (ms), null while it runs. */
  constructor (expiresAt: (id: string) => number | null) {
    this.#expiresAt = expiresAt
  }

  /** Charges `bytes` of `unit` to `tenant` unless the tenant would pass `quota` (0: none); see ScanStore.chargeStorage. */
  charge (tenant: string | undefined, unit: string, attempt: string, bytes: number, quota: number): StorageCharge {
    const id = scanOfUnit(unit)
    let units = this.#scans.get(id)
    let held = units?.get(unit)
    if (held?.attempt !== attempt) {
      if (bytes < 0) return { charged: true, used: this.used(tenant) }
      if (held !== undefined) this.#add(held.tenant, -held.bytes)
      held = { tenant, attempt, bytes: 0 }
      if (units === undefined) this.#scans.set(id, units = new Map())
      units.set(unit, held)
    }
    const used = this.used(tenant)
    if (bytes > 0 && quota > 0 && used + bytes > quota) return { charged: false, used }
    held.bytes += bytes
    this.#add(tenant, bytes)
    return { charged: true, used: this.used(tenant) }
  }

  usage (tenant: string | undefined): StorageUsage {
    let freesAt: number | null = null
    for (const [id, units] of this.#scans) {
      if (![...units.values()].some((held) => held.tenant === tenant && held.bytes > 0)) continue
      const at = this.#expiresAt(id)
      if (at !== null && (freesAt === null || at < freesAt)) freesAt = at
    }
    return { used: this.used(tenant), freesAt }
  }

  /** The charges of scan `id` (of one of its units with `unit`), for a state directory. */
  of (id: string, unit?: string): StoredCharge[] {
    const charges: StoredCharge[] = []
    for (const [name, held] of this.#scans.get(id) ?? []) {
      if (unit !== undefined && name !== unit) continue
      charges.push({ unit: name, attempt: held.attempt, ...(held.tenant === undefined ? {} : { tenant: held.tenant }), bytes: held.bytes })
    }
    return charges
  }

  /** Books charges a state directory kept (the store checked that their pages are there). */
  restore (charges: StoredCharge[]): void {
    for (const { unit, attempt, tenant, bytes } of charges) {
      const id = scanOfUnit(unit)
      let units = this.#scans.get(id)
      if (units === undefined) this.#scans.set(id, units = new Map())
      const before = units.get(unit)
      if (before !== undefined) this.#add(before.tenant, -before.bytes)
      units.set(unit, { tenant, attempt, bytes })
      this.#add(tenant, bytes)
    }
  }

  /** The scan is gone: its charges end. */
  drop (id: string): void {
    for (const held of this.#scans.get(id)?.values() ?? []) this.#add(held.tenant, -held.bytes)
    this.#scans.delete(id)
  }

  /** Bytes `tenant` stores now. */
  used (tenant: string | undefined): number {
    return this.#used.get(tenant) ?? 0
  }

  #add (tenant: string | undefined, bytes: number): void {
    const used = this.used(tenant) + bytes
    if (used === 0) this.#used.delete(tenant)
    else this.#used.set(tenant, used)
  }
}
