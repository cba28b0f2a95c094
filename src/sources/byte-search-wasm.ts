/*
 * The WebAssembly module of the byte search, assembled here from its instructions (no toolchain needed):
 * (func (param $p i32) (param $end i32) (param $out i32) (param $a i32) (param $b i32) (result i32)
 *   (local $byte i32) (local $out0 i32) (local $last i32) (local $mask i64) (local $va v128) (local $vb v128) (local $v v128)
 * $last = $end - 64; each 64 bytes from $p while $p <= $last: the 64-bit mask of (v == a | v == b), then
 * one store per set bit (ctz, clear lowest); the rest one byte at a time; returns ($out - $out0) / 4.
 */
const P = 0
const END = 1
const OUT = 2
const A = 3
const B = 4
const BYTE = 5
const OUT0 = 6
const LAST = 7
const MASK = 8
const VA = 9
const VB = 10
const V = 11

const VOID = 0x40

/** Signed LEB128 of a small non-negative constant. */
function sleb (value: number): number[] {
  const out: number[] = []
  while (value >= 0x40) {
    out.push((value & 0x7f) | 0x80)
    value >>>= 7
  }
  return [...out, value]
}
const op = {
  block: [0x02, VOID],
  loop: [0x03, VOID],
  if: [0x04, VOID],
  end: [0x0b],
  br: (depth: number) => [0x0c, depth],
  brIf: (depth: number) => [0x0d, depth],
  get: (local: number) => [0x20, local],
  set: (local: number) => [0x21, local],
  tee: (local: number) => [0x22, local],
  load8: [0x2d, 0x00, 0x00],
  store32: [0x36, 0x02, 0x00],
  const: (value: number) => [0x41, ...sleb(value)],
  const64: (value: number) => [0x42, ...sleb(value)],
  eq: [0x46],
  gtS: [0x4a],
  geU: [0x4f],
  eqz64: [0x50],
  add: [0x6a],
  sub: [0x6b],
  or: [0x72],
  shrU: [0x76],
  ctz64: [0x7a],
  sub64: [0x7d],
  and64: [0x83],
  or64: [0x84],
  shl64: [0x86],
  wrap: [0xa7],
  extendU: [0xad],
  v128Load: (offset: number) => [0xfd, 0x00, 0x00, offset],
  splat8: [0xfd, 0x0f],
  eq8: [0xfd, 0x23],
  v128Or: [0xfd, 0x50],
  bitmask8: [0xfd, 0x64]
}

/** The 16-bit match mask of the 16 bytes at $p + offset, as i64 shifted left by offset. */
const match16 = (offset: number) => [
  ...op.get(P), ...op.v128Load(offset), ...op.tee(V), ...op.get(VA), ...op.eq8,
  ...op.get(V), ...op.get(VB), ...op.eq8, ...op.v128Or, ...op.bitmask8, ...op.extendU,
  ...(offset === 0 ? [] : [...op.const64(offset), ...op.shl64])
]

const body = [
  ...op.get(OUT), ...op.set(OUT0),
  ...op.get(END), ...op.const(64), ...op.sub, ...op.set(LAST),
  ...op.get(A), ...op.splat8, ...op.set(VA),
  ...op.get(B), ...op.splat8, ...op.set(VB),
  ...op.block, ...op.loop,
  ...op.get(P), ...op.get(LAST), ...op.gtS, ...op.brIf(1),
  ...match16(0), ...match16(16), ...op.or64, ...match16(32), ...op.or64, ...match16(48), ...op.or64, ...op.set(MASK),
  ...op.block, ...op.loop,
  ...op.get(MASK), ...op.eqz64, ...op.brIf(1),
  ...op.get(OUT), ...op.get(P), ...op.get(MASK), ...op.ctz64, ...op.wrap, ...op.add, ...op.store32,
  ...op.get(OUT), ...op.const(4), ...op.add, ...op.set(OUT),
  ...op.get(MASK), ...op.get(MASK), ...op.const64(1), ...op.sub64, ...op.and64, ...op.set(MASK),
  ...op.br(0), ...op.end, ...op.end,
  ...op.get(P), ...op.const(64), ...op.add, ...op.set(P),
  ...op.br(0), ...op.end, ...op.end,
  ...op.block, ...op.loop,
  ...op.get(P), ...op.get(END), ...op.geU, ...op.brIf(1),
  ...op.get(P), ...op.load8, ...op.tee(BYTE), ...op.get(A), ...op.eq,
  ...op.get(BYTE), ...op.get(B), ...op.eq, ...op.or,
  ...op.if, ...op.get(OUT), ...op.get(P), ...op.store32,
  ...op.get(OUT), ...op.const(4), ...op.add, ...op.set(OUT), ...op.end,
  ...op.get(P), ...op.const(1), ...op.add, ...op.set(P),
  ...op.br(0), ...op.end, ...op.end,
  ...op.get(OUT), ...op.get(OUT0), ...op.sub, ...op.const(2), ...op.shrU,
  ...op.end
]

const I32 = 0x7f
const V128 = 0x7b
const I64 = 0x7e
const locals = [3, 3, I32, 1, I64, 3, V128]
const code = [...locals, ...body]

function section (id: number, content: number[]): number[] {
  return [id, ...leb(content.length), ...content]
}

function leb (value: number): number[] {
  const out: number[] = []
  do {
    const byte = value & 0x7f
    value >>>= 7
    out.push(value === 0 ? byte : byte | 0x80)
  } while (value !== 0)
  return out
}

const name = (text: string) => [text.length, ...Buffer.from(text)]

/** The module: imports env.memory, exports positions. */
export const byteSearchWasm = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  ...section(1, [1, 0x60, 5, I32, I32, I32, I32, I32, 1, I32]),
  ...section(2, [1, ...name('env'), ...name('memory'), 0x02, 0x00, 0x01]),
  ...section(3, [1, 0]),
  ...section(7, [1, ...name('positions'), 0x00, 0]),
  ...section(10, [1, ...leb(code.length), ...code])
])
