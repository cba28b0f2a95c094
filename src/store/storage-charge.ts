/** What a storage charge did. */
export interface StorageCharge {
  /** False: the bytes would have taken the tenant past its quota and nothing was charged. */
  charged: boolean
  /** Bytes of results the tenant stores after the charge. */
  used: number
}

/** The bytes one charge unit holds for its attempt, as a state directory keeps them. */
export interface StoredCharge {
  unit: string
  attempt: string
  tenant?: string
  bytes: number
}

/** What a tenant stores now. */
export interface StorageUsage {
  /** Bytes of results of the tenant's scans, running and finished, until they are deleted or expire. */
  used: number
  /** When the charge that ends first ends with its scan's retention (ms since the epoch), or null when none is due. */
  freesAt: number | null
}

/** The charge unit of one partition of a scan; a scan that is not partitioned is charged under its id. */
export function partitionUnit (id: string, part: number): string {
  return `${id}/${part}`
}

/** The scan a charge unit belongs to. */
export function scanOfUnit (unit: string): string {
  const slash = unit.indexOf('/')
  return slash < 0 ? unit : unit.slice(0, slash)
}
