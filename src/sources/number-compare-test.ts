import type { CompareAtom, LineTest } from './raw-line-filter.js'

const OPS = ['<', '<=', '>', '>=', '==', '!='] as const

/** The number of a record's field read from its bytes b[start, end), or NaN when the bytes do not tell. */
export type ReadNumber = (b: Buffer, start: number, end: number) => number

/**
 * `record[field] <op> value` on lines whose field's number can be read from the bytes. A line
 * passes when the comparison holds, and when there is no number to compare (no such field,
 * another type, a line the reader does not follow), since the decoded record then decides or fails.
 */
export class NumberCompareTest implements LineTest {
  readonly #read: ReadNumber
  readonly #op: number
  readonly #value: number
  #bytes: Buffer = Buffer.alloc(0)
  #tested = 0
  #passed = 0

  constructor (atom: CompareAtom, read: ReadNumber) {
    this.#read = read
    this.#op = OPS.indexOf(atom.op)
    this.#value = atom.value
  }

  get rate (): number {
    return (this.#passed + 1) / (this.#tested + 2)
  }

  begin (bytes: Buffer): void {
    this.#bytes = bytes
  }

  pass (start: number, end: number): boolean {
    this.#tested++
    const n = this.#read(this.#bytes, start, end)
    const value = this.#value
    let holds: boolean
    switch (this.#op) {
      case 0: holds = n < value; break
      case 1: holds = n <= value; break
      case 2: holds = n > value; break
      case 3: holds = n >= value; break
      case 4: holds = n === value; break
      default: holds = n !== value
    }
    if (holds || Number.isNaN(n)) {
      this.#passed++
      return true
    }
    return false
  }
}
