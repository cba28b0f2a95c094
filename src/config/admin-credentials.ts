import { timingSafeEqual } from 'node:crypto'
import { sha256 } from './api-keys.js'

/** The dashboard's own credential: a user name and the SHA-256 of its password. */
export interface AdminCredentials {
  user: string
  digest: Buffer
}

/** Shortest plain password. */
export const MIN_ADMIN_PASSWORD_LENGTH = 16

/** Parses `user:password` or `user:sha256:<64 hex digits>`; a plain password is hashed at once. */
export function parseAdminCredentials (text: string): AdminCredentials {
  const colon = text.indexOf(':')
  if (colon <= 0) throw new Error('must be user:password or user:sha256:<64 hex digits>')
  const user = text.slice(0, colon)
  const secret = text.slice(colon + 1)
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(user)) throw new Error(`user "${user}" must be 1 to 64 letters, digits, _ . -`)
  if (secret.startsWith('sha256:')) {
    const hex = secret.slice('sha256:'.length)
    if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new Error('sha256: must be followed by 64 hex digits')
    return { user, digest: Buffer.from(hex, 'hex') }
  }
  if (secret.length < MIN_ADMIN_PASSWORD_LENGTH) throw new Error(`the password must have at least ${MIN_ADMIN_PASSWORD_LENGTH} characters`)
  return { user, digest: sha256(secret) }
}

/** Whether an `Authorization: Basic …` header carries the credential (compared in constant time). */
export function basicMatches (credentials: AdminCredentials, header: string | undefined): boolean {
  const match = /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(header ?? '')
  if (match === null) return false
  const decoded = Buffer.from(match[1], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) return false
  const userOk = timingSafeEqual(sha256(decoded.slice(0, colon)), sha256(credentials.user))
  const passwordOk = timingSafeEqual(sha256(decoded.slice(colon + 1)), credentials.digest)
  return userOk && passwordOk
}
