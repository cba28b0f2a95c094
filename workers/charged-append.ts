import type { ScanStore } from '../src/store/scan-store.js'
import { StorageQuotaExceededError } from '../src/errors.js'

export interface ChargedAppendOptions {
  store: ScanStore
  tenant: string | undefined
  /** The charge unit: the scan id, or partitionUnit(id, part). */
  unit: string
  attempt: string
  /** The tenant's quota in bytes; 0: none. */
  quota: number
  /** Stores the pages; false once the attempt is superseded. */
  append: (pages: string[]) => Promise<boolean>
  /** The pages would take the tenant past its quota: nothing was stored; the scan must stop with `error`. */
  refused: (error: Error) => void
}

/**
 * An append that books its bytes against the tenant's storage quota first: past the quota it stores
 * nothing, calls `refused` and throws; a refused append gives its bytes back.
 */
export function chargedAppend (options: ChargedAppendOptions): (pages: string[]) => Promise<boolean> {
  const { store, tenant, unit, attempt, quota } = options
  return async (pages) => {
    let bytes = 0
    for (const page of pages) bytes += Buffer.byteLength(page)
    const charge = await store.chargeStorage(tenant, unit, attempt, bytes, quota)
    if (!charge.charged) {
      const error = new StorageQuotaExceededError(`${charge.used} bytes of results are stored and ${bytes} more would pass the quota of ${quota} (PARASCAN_TENANT_STORAGE_BYTES)`)
      options.refused(error)
      throw error
    }
    const appended = await options.append(pages)
    if (!appended) await store.chargeStorage(tenant, unit, attempt, -bytes, 0).catch(() => {})
    return appended
  }
}

