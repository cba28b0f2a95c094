/** WebAssembly instruction encodings for the modules assembled here (no toolchain needed). */

const VOID = 0x40

/** Signed LEB128. */
export function sleb (value: number): number[] {
  const out: number[] = []
  for (;;) {
    const byte = value & 0x7f
    value >>= 7
    if ((value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0)) return [...out, byte]
    out.push(byte | 0x80)
  }
}

/** Unsigned LEB128. */
export function leb (value: number): number[] {
  const out: number[] = []
  do {
    const byte = value & 0x7f
    value >>>= 7
    out.push(value === 0 ? byte : byte | 0x80)
  } while (value !== 0)
  return out
}

export const I32 = 0x7f
export const I64 = 0x7e
export const V128 = 0x7b

export const op = {
  block: [0x02, VOID],
  loop: [0x03, VOID],
  if: [0x04, VOID],
  end: [0x0b],
  br: (depth: number) => [0x0c, depth],
  brIf: (depth: number) => [0x0d, depth],
  select: [0x1b],
  get: (local: number) => [0x20, local],
  set: (local: number) => [0x21, local],
  tee: (local: number) => [0x22, local],
  load64: (offset: number) => [0x29, 0x03, ...leb(offset)],
  load8: [0x2d, 0x00, 0x00],
  store32: (offset = 0) => [0x36, 0x02, ...leb(offset)],
  store64: (offset: number) => [0x37, 0x03, ...leb(offset)],
  const: (value: number) => [0x41, ...sleb(value)],
  const64: (value: number) => [0x42, ...sleb(value)],
  eq: [0x46],
  ltS: [0x48],
  gtS: [0x4a],
  geU: [0x4f],
  eqz64: [0x50],
  ne64: [0x52],
  add: [0x6a],
  sub: [0x6b],
  or: [0x72],
  shl: [0x74],
  shrU: [0x76],
  ctz64: [0x7a],
  sub64: [0x7d],
  and64: [0x83],
  or64: [0x84],
  xor64: [0x85],
  shl64: [0x86],
  shrS64: [0x87],
  shrU64: [0x88],
  wrap: [0xa7],
  extendU: [0xad],
  v128Load: (offset: number) => [0xfd, 0x00, 0x00, ...leb(offset)],
  splat8: [0xfd, 0x0f],
  eq8: [0xfd, 0x23],
  v128Or: [0xfd, 0x50],
  bitmask8: [0xfd, 0x64]
}

/** A section of a module: its id, then its length-prefixed content. */
export function section (id: number, content: number[]): number[] {
  return [id, ...leb(content.length), ...content]
}

/** A length-prefixed name. */
export const name = (text: string) => [text.length, ...Buffer.from(text)]

/** One function body: its locals as [count, type] groups, then its instructions. */
export function functionBody (locals: Array<[number, number]>, body: number[]): number[] {
  const code = [...leb(locals.length), ...locals.flat(), ...body]
  return [...leb(code.length), ...code]
}
