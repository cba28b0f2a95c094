import { createHash } from 'node:crypto'

/** JSON with object keys sorted, so that equal values give equal text. */
export function canonicalJson (value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

export function fingerprint (value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('base64url')
}
