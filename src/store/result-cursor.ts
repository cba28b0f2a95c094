import { InvalidCursorError } from '../errors.js'

/** Position in a scan's append-only result pages: attempt id, page index, item offset in that page. */
export interface ResultPosition {
  attempt: string
  page: number
  offset: number
}

export function encodeResultCursor (position: ResultPosition): string {
  return Buffer.from(JSON.stringify([position.attempt, position.page, position.offset])).toString('base64url')
}

export function decodeResultCursor (cursor: string): ResultPosition {
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    throw new InvalidCursorError('not a cursor returned by this service')
  }
  if (!Array.isArray(value) || value.length !== 3 || typeof value[0] !== 'string' ||
    !Number.isSafeInteger(value[1]) || value[1] < 0 || !Number.isSafeInteger(value[2]) || value[2] < 0) {
    throw new InvalidCursorError('not a cursor returned by this service')
  }
  return { attempt: value[0], page: value[1], offset: value[2] }
}
