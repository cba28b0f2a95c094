import { csvRecordEndsBody } from './csv-record-ends-wasm.js'
import { functionBody, I32, I64, name, op, section, V128 } from './wasm-ops.js'

/*
 * The WebAssembly module of the byte search:
 * (func $positions (param $p i32) (param $end i32) (param $out i32) (param $a i32) (param $b i32) (result i32)
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

/** The 16-bit match mask of the 16 bytes at $p + offset, as i64 shifted left by offset. */
const match16 = (offset: number) => [
  ...op.get(P), ...op.v128Load(offset), ...op.tee(V), ...op.get(VA), ...op.eq8,
  ...op.get(V), ...op.get(VB), ...op.eq8, ...op.v128Or, ...op.bitmask8, ...op.extendU,
  ...(offset === 0 ? [] : [...op.const64(offset), ...op.shl64])
]

const positionsBody = [
  ...op.get(OUT), ...op.set(OUT0),
  ...op.get(END), ...op.const(64), ...op.sub, ...op.set(LAST),
  ...op.get(A), ...op.splat8, ...op.set(VA),
  ...op.get(B), ...op.splat8, ...op.set(VB),
  ...op.block, ...op.loop,
  ...op.get(P), ...op.get(LAST), ...op.gtS, ...op.brIf(1),
  ...match16(0), ...match16(16), ...op.or64, ...match16(32), ...op.or64, ...match16(48), ...op.or64, ...op.set(MASK),
  ...op.block, ...op.loop,
  ...op.get(MASK), ...op.eqz64, ...op.brIf(1),
  ...op.get(OUT), ...op.get(P), ...op.get(MASK), ...op.ctz64, ...op.wrap, ...op.add, ...op.store32(),
  ...op.get(OUT), ...op.const(4), ...op.add, ...op.set(OUT),
  ...op.get(MASK), ...op.get(MASK), ...op.const64(1), ...op.sub64, ...op.and64, ...op.set(MASK),
  ...op.br(0), ...op.end, ...op.end,
  ...op.get(P), ...op.const(64), ...op.add, ...op.set(P),
  ...op.br(0), ...op.end, ...op.end,
  ...op.block, ...op.loop,
  ...op.get(P), ...op.get(END), ...op.geU, ...op.brIf(1),
  ...op.get(P), ...op.load8, ...op.tee(BYTE), ...op.get(A), ...op.eq,
  ...op.get(BYTE), ...op.get(B), ...op.eq, ...op.or,
  ...op.if, ...op.get(OUT), ...op.get(P), ...op.store32(),
  ...op.get(OUT), ...op.const(4), ...op.add, ...op.set(OUT), ...op.end,
  ...op.get(P), ...op.const(1), ...op.add, ...op.set(P),
  ...op.br(0), ...op.end, ...op.end,
  ...op.get(OUT), ...op.get(OUT0), ...op.sub, ...op.const(2), ...op.shrU,
  ...op.end
]

/** The module: imports env.memory, exports positions (type 0) and csvRecordEnds (type 1). */
export const byteSearchWasm = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  ...section(1, [2, 0x60, 5, I32, I32, I32, I32, I32, 1, I32, 0x60, 4, I32, I32, I32, I32, 1, I32]),
  ...section(2, [1, ...name('env'), ...name('memory'), 0x02, 0x00, 0x01]),
  ...section(3, [2, 0, 1]),
  ...section(7, [2, ...name('positions'), 0x00, 0, ...name('csvRecordEnds'), 0x00, 1]),
  ...section(10, [2, ...functionBody([[3, I32], [1, I64], [3, V128]], positionsBody), ...functionBody(csvRecordEndsBody.locals, csvRecordEndsBody.code)])
])
