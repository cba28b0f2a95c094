import { createHash, timingSafeEqual } from 'node:crypto'

export interface ApiKeyEntry {
  tenant: string
  /** SHA-256 of the key. */
  digest: Buffer
}

const TENANT = /^[A-Za-z0-9_.-]{1,64}$/
/** Shortest plain key: 16 characters leave nothing for a guesser to walk. */
export const MIN_KEY_LENGTH = 16
const HEX_DIGEST = /^[0-9a-fA-F]{64}$/

export function sha256 (text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest()
}

/**
 * Parses `tenantA:key1,tenantB:sha256:<64 hex digits>`: plain keys are hashed at once, so that only
 * digests are kept; a tenant may have several keys.
 */
export function parseApiKeys (text: string): ApiKeyEntry[] {
  const entries: ApiKeyEntry[] = []
  for (const [index, item] of text.split(',').map((part) => part.trim()).entries()) {
    const colon = item.indexOf(':')
    if (colon <= 0) throw new Error(`entry ${index + 1} is not tenant:key`)
    const tenant = item.slice(0, colon)
    const key = item.slice(colon + 1)
    if (!TENANT.test(tenant)) throw new Error(`entry ${index + 1}: tenant "${tenant}" must be 1 to 64 letters, digits, _ . -`)
    if (/^\.+$/.test(tenant)) throw new Error(`entry ${index + 1}: tenant "${tenant}" is only dots; it would name a directory outside PARASCAN_DATA_DIR`)
    if (key.startsWith('sha256:')) {
      const hex = key.slice('sha256:'.length)
      if (!HEX_DIGEST.test(hex)) throw new Error(`entry ${index + 1}: sha256: must be followed by 64 hex digits`)
      entries.push({ tenant, digest: Buffer.from(hex, 'hex') })
    } else {
      if (key.length < MIN_KEY_LENGTH) throw new Error(`entry ${index + 1}: a key must have at least ${MIN_KEY_LENGTH} characters`)
      entries.push({ tenant, digest: sha256(key) })
    }
  }
  if (new Set(entries.map((entry) => entry.digest.toString('hex'))).size !== entries.length) throw new Error('the same key is given twice')
  return entries
}

/** The tenant of `presented`, or undefined; compares with every entry in constant time. */
export function findTenant (entries: readonly ApiKeyEntry[], presented: string): string | undefined {
  const digest = sha256(presented)
  let tenant: string | undefined
  for (const entry of entries) {
    if (timingSafeEqual(entry.digest, digest)) tenant = entry.tenant
  }
  return tenant
}
