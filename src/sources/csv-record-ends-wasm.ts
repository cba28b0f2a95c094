import { I32, I64, op, V128 } from './wasm-ops.js'

/*
 * (func $csvRecordEnds (param $p i32) (param $end i32) (param $out i32) (param $state i32) (result i32))
 * Over [$p, $end), 64 bytes at a time (a last chunk of fewer bytes masked to them): the masks of `"`, `\n`
 * and `,`; which bytes lie inside quotes, as the prefix XOR of the quote mask (a shift-xor cascade) XOR the
 * carry; the `\n` outside quotes are stored as addresses from $out on. A quote that opens a field must
 * follow `,`, `\n` or `"` (a closed quote, so the pair is a doubled quote) or begin the chunk with the
 * carried flag set; any other opening quote stops the search before its chunk, leaving the state of that
 * chunk's start. State at $state: i64 inside-quotes carry (0 or -1), i64 may-open flag (0 or 1), i32
 * where the search stopped ($end or past it when it went through). Returns how many addresses it stored.
 */
const P = 0
const END = 1
const OUT = 2
const STATE = 3
const OUT0 = 4
const K = 5
const INSIDE = 6
const MAY_OPEN = 7
const Q = 8
const N = 9
const C = 10
const X = 11
const VALID = 12
const ENDS = 13
const V0 = 14
const VQ = 18
const VN = 19
const VC = 20

const QUOTE = 0x22
const LF = 0x0a
const COMMA = 0x2c

const match16 = (vector: number, target: number) => [...op.get(V0 + vector), ...op.get(target), ...op.eq8, ...op.bitmask8]
const match32 = (first: number, target: number) => [
  ...match16(first, target), ...match16(first + 1, target), ...op.const(16), ...op.shl, ...op.or, ...op.extendU
]

/** The 64-bit mask of the bytes equal to the splat in `target`, from the four vectors loaded (ANDed with $valid unless `full`). */
const mask64 = (target: number, full: boolean) => [
  ...match32(0, target), ...match32(2, target), ...op.const64(32), ...op.shl64, ...op.or64,
  ...(full ? [] : [...op.get(VALID), ...op.and64])
]

const xorShift = (by: number) => [...op.get(X), ...op.get(X), ...op.const64(by), ...op.shl64, ...op.xor64, ...op.set(X)]

/** The bit of the chunk's last byte in `local` (bit 63, or bit $k - 1 unless `full`), as 0 or 1. */
const lastBit = (local: number, full: boolean) => [
  ...op.get(local), ...(full ? op.const64(63) : [...op.get(K), ...op.const(1), ...op.sub, ...op.extendU]), ...op.shrU64,
  ...(full ? [] : [...op.const64(1), ...op.and64])
]

/** One chunk at $p: `stop` is the branch depth that leaves the search when a quote cannot open. */
const chunk = (full: boolean, stop: number) => [
  ...(full
    ? []
    : [
        ...op.get(END), ...op.get(P), ...op.sub, ...op.set(K),
        ...op.const64(1), ...op.get(K), ...op.extendU, ...op.shl64, ...op.const64(1), ...op.sub64, ...op.set(VALID)
      ]),
  ...[0, 1, 2, 3].flatMap((i) => [...op.get(P), ...op.v128Load(16 * i), ...op.set(V0 + i)]),
  ...mask64(VQ, full), ...op.set(Q),
  ...mask64(VN, full), ...op.set(N),
  ...op.get(Q), ...op.get(N), ...op.or64, ...mask64(VC, full), ...op.or64, ...op.set(C),
  ...op.get(Q), ...op.set(X),
  ...[1, 2, 4, 8, 16, 32].flatMap(xorShift),
  ...op.get(X), ...op.get(INSIDE), ...op.xor64, ...op.set(X),
  ...op.get(Q), ...op.get(X), ...op.and64,
  ...op.get(C), ...op.const64(1), ...op.shl64, ...op.get(MAY_OPEN), ...op.or64, ...op.const64(-1), ...op.xor64, ...op.and64,
  ...op.const64(0), ...op.ne64, ...op.brIf(stop),
  ...op.get(N), ...op.get(X), ...op.const64(-1), ...op.xor64, ...op.and64, ...op.set(ENDS),
  ...op.block, ...op.loop,
  ...op.get(ENDS), ...op.eqz64, ...op.brIf(1),
  ...op.get(OUT), ...op.get(P), ...op.get(ENDS), ...op.ctz64, ...op.wrap, ...op.add, ...op.store32(),
  ...op.get(OUT), ...op.const(4), ...op.add, ...op.set(OUT),
  ...op.get(ENDS), ...op.get(ENDS), ...op.const64(1), ...op.sub64, ...op.and64, ...op.set(ENDS),
  ...op.br(0), ...op.end, ...op.end,
  ...(full ? [...op.get(X), ...op.const64(63), ...op.shrS64] : [...op.const64(0), ...lastBit(X, full), ...op.sub64]), ...op.set(INSIDE),
  ...lastBit(C, full), ...op.set(MAY_OPEN),
  ...op.get(P), ...op.const(64), ...op.add, ...op.set(P)
]

const code = [
  ...op.get(OUT), ...op.set(OUT0),
  ...op.get(STATE), ...op.load64(0), ...op.set(INSIDE),
  ...op.get(STATE), ...op.load64(8), ...op.set(MAY_OPEN),
  ...op.const(QUOTE), ...op.splat8, ...op.set(VQ),
  ...op.const(LF), ...op.splat8, ...op.set(VN),
  ...op.const(COMMA), ...op.splat8, ...op.set(VC),
  ...op.block,
  ...op.block, ...op.loop,
  ...op.get(END), ...op.get(P), ...op.sub, ...op.const(64), ...op.ltS, ...op.brIf(1),
  ...chunk(true, 2),
  ...op.br(0), ...op.end, ...op.end,
  ...op.get(P), ...op.get(END), ...op.geU, ...op.brIf(0),
  ...chunk(false, 0),
  ...op.end,
  ...op.get(STATE), ...op.get(INSIDE), ...op.store64(0),
  ...op.get(STATE), ...op.get(MAY_OPEN), ...op.store64(8),
  ...op.get(STATE), ...op.get(P), ...op.store32(16),
  ...op.get(OUT), ...op.get(OUT0), ...op.sub, ...op.const(2), ...op.shrU,
  ...op.end
]

export const csvRecordEndsBody = { locals: [[2, I32], [8, I64], [7, V128]] as Array<[number, number]>, code }
