import { InvalidCursorError } from '../errors.js'

/** The cursor of the list page that follows the scan `id`. */
export function encodeListCursor (id: string): string {
  return Buffer.from(id).toString('base64url')
}

/** The scan id a list cursor names; a string that is not such a cursor is an InvalidCursorError. */
export function decodeListCursor (cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8')
  if (!/^[0-9a-f-]{36}$/.test(id)) throw new InvalidCursorError('not a cursor returned by this service')
  return id
}
