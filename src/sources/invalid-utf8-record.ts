import { InvalidEncodingError } from '../errors.js'

/** In place of a record with bytes that are not UTF-8: decoding it fails with PARASCAN_INVALID_ENCODING. */
export class InvalidUtf8Record {
  /** `position`: the file offset of the first byte that is not UTF-8; `bytes`: it and the continuation bytes after it, in hex. */
  constructor (readonly position: number, readonly bytes: string) {}

  error (path: string): Error {
    return new InvalidEncodingError(path, this.position, this.bytes)
  }

  /** For a record of `chunk` (read from file offset `base`) whose first bad byte is at `at` in the chunk. */
  static at (chunk: Buffer, base: number, at: number): InvalidUtf8Record {
    let end = at + 1
    while (end < chunk.length && end < at + 4 && chunk[end] >= 0x80 && chunk[end] <= 0xbf) end++
    const shown = Array.from(chunk.subarray(at, end), (b) => b.toString(16).padStart(2, '0')).join(' ')
    return new InvalidUtf8Record(base + at, shown)
  }
}
