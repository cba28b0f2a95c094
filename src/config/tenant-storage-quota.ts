const TENANT = /^[A-Za-z0-9_.-]{1,64}$/

/** Parses `tenantA:bytes,tenantB:bytes`: each tenant's own storage quota (0: none). */
export function parseTenantQuotas (text: string): Map<string, number> {
  const quotas = new Map<string, number>()
  for (const [index, item] of text.split(',').map((part) => part.trim()).entries()) {
    const colon = item.lastIndexOf(':')
    const tenant = item.slice(0, Math.max(0, colon))
    const bytes = item.slice(colon + 1).trim()
    if (colon <= 0 || !TENANT.test(tenant)) throw new Error(`entry ${index + 1} is not tenant:bytes with a tenant of 1 to 64 letters, digits, _ . -`)
    if (!/^\d{1,16}$/.test(bytes) || Number(bytes) > 2 ** 50) throw new Error(`entry ${index + 1}: "${bytes}" must be an integer from 0 to ${2 ** 50}`)
    if (quotas.has(tenant)) throw new Error(`entry ${index + 1}: tenant "${tenant}" is given twice`)
    quotas.set(tenant, Number(bytes))
  }
  return quotas
}

/** The storage quota of each tenant: its own, or `fallback` (0: none). */
export function tenantQuota (fallback: number, own: ReadonlyMap<string, number> = new Map()): (tenant: string | undefined) => number {
  return (tenant) => (tenant === undefined ? undefined : own.get(tenant)) ?? fallback
}
