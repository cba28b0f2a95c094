import { isUtf8 } from 'node:buffer'

/**
 * Index of the first byte of `bytes[from, to)` that does not belong to well-formed UTF-8
 * (Unicode table 3-7: no overlong forms, no surrogates, nothing past U+10FFFF, no sequence cut
 * short), or -1 when there is none.
 */
export function firstInvalidUtf8 (bytes: Uint8Array, from = 0, to = bytes.length): number {
  let i = from
  while (i < to) {
    const c = bytes[i]
    if (c < 0x80) {
      i++
      continue
    }
    let n = 0
    let lo = 0x80
    let hi = 0xbf
    if (c >= 0xc2 && c <= 0xdf) n = 1
    else if (c === 0xe0) { n = 2; lo = 0xa0 } else if (c === 0xed) { n = 2; hi = 0x9f } else if (c >= 0xe1 && c <= 0xef) n = 2
    else if (c === 0xf0) { n = 3; lo = 0x90 } else if (c === 0xf4) { n = 3; hi = 0x8f } else if (c >= 0xf1 && c <= 0xf3) n = 3
    else return i
    if (i + n >= to || bytes[i + 1] < lo || bytes[i + 1] > hi) return i
    for (let k = 2; k <= n; k++) if (bytes[i + k] < 0x80 || bytes[i + k] > 0xbf) return i
    i += n + 1
  }
  return -1
}

/**
 * For a chunk of records (`start(i)`: where record i begins in `bytes`, `start(count)` its end),
 * the records that hold bytes that are not UTF-8, each with the position of its first one; undefined
 * when every byte is UTF-8. Records end in a line feed, so no sequence spans two of them and one
 * native check of the whole chunk says whether any record needs looking at.
 */
export function invalidUtf8Records (bytes: Buffer, count: number, start: (i: number) => number): Map<number, number> | undefined {
  if (isUtf8(bytes)) return undefined
  const bad = new Map<number, number>()
  for (let i = 0; i < count; i++) {
    const from = start(i)
    const to = start(i + 1)
    if (!isUtf8(bytes.subarray(from, to))) bad.set(i, firstInvalidUtf8(bytes, from, to))
  }
  return bad
}
