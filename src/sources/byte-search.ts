import { byteSearchWasm } from './byte-search-wasm.js'

/**
 * Finds every position of one of two byte values in a range of memory, 64 bytes at a time (WebAssembly
 * SIMD), and writes them as 32-bit addresses: the native loop under the record index pass. The files
 * are read straight into this memory, so nothing is copied.
 */
export interface ByteSearch {
  /** The search's memory: file blocks go here. */
  readonly bytes: Uint8Array
  /** The same memory as 32-bit words: positions found are read from here. */
  readonly words: Int32Array
  /**
   * Writes the address of every byte in [start, end) equal to `a` or `b`, in order, as int32 from byte
   * address `out` (4-aligned) on, and returns how many it wrote (at most end - start).
   */
  positions (start: number, end: number, out: number, a: number, b: number): number
  /**
   * With WebAssembly only: writes the address of every `\n` in [start, end) that lies outside CSV quotes,
   * carrying the quote state at byte address `state` (see csv-record-ends-wasm.ts); returns how many it
   * wrote. It may read up to 63 bytes past `end`.
   */
  readonly csvRecordEnds?: (start: number, end: number, out: number, state: number) => number
}

/** The part of the WebAssembly API used here (the compiler's Node types do not declare it). */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object
  Memory: new (descriptor: { initial: number }) => { readonly buffer: ArrayBuffer }
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { readonly exports: Record<string, unknown> }
}

/** Absent under `--jitless`. */
const wasmApi = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly

let compiled: object | null | undefined

function compile (): object | null {
  if (compiled === undefined) {
    try {
      compiled = wasmApi === undefined ? null : new wasmApi.Module(byteSearchWasm)
    } catch {
      compiled = null
    }
  }
  return compiled
}

/** The same search with `Buffer.indexOf`, where WebAssembly SIMD is not available (e.g. `--jitless`). */
function indexOfPositions (bytes: Buffer, words: Int32Array) {
  return (start: number, end: number, out: number, a: number, b: number): number => {
    const view = bytes.subarray(0, end)
    let at = out >> 2
    let nextA = view.indexOf(a, start)
    let nextB = a === b ? -1 : view.indexOf(b, start)
    while (nextA !== -1 || nextB !== -1) {
      if (nextB === -1 || (nextA !== -1 && nextA < nextB)) {
        words[at++] = nextA
        nextA = view.indexOf(a, nextA + 1)
      } else {
        words[at++] = nextB
        nextB = view.indexOf(b, nextB + 1)
      }
    }
    return at - (out >> 2)
  }
}

function plainSearch (pages: number): ByteSearch {
  const buffer = new ArrayBuffer(pages * 65536)
  const bytes = Buffer.from(buffer)
  const words = new Int32Array(buffer)
  return { bytes, words, positions: indexOfPositions(bytes, words) }
}

/**
 * A search over `size` bytes of its own memory; `simd: false`, or a runtime without WebAssembly or
 * without the address space for one more module memory, takes the `Buffer.indexOf` loop.
 */
export function createByteSearch (size: number, options: { simd?: boolean } = {}): ByteSearch {
  const module = options.simd === false ? null : compile()
  const pages = Math.max(1, Math.ceil(size / 65536))
  if (module === null || wasmApi === undefined) return plainSearch(pages)
  let memory
  try {
    memory = new wasmApi.Memory({ initial: pages })
  } catch {
    return plainSearch(pages)
  }
  const instance = new wasmApi.Instance(module, { env: { memory } })
  return {
    bytes: Buffer.from(memory.buffer),
    words: new Int32Array(memory.buffer),
    positions: instance.exports.positions as ByteSearch['positions'],
    csvRecordEnds: instance.exports.csvRecordEnds as ByteSearch['csvRecordEnds']
  }
}
