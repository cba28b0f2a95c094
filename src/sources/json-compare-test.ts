import { memberNumber } from './json-member-number.js'
import type { CompareAtom, LineTest } from './raw-line-filter.js'

const OPS = ['<', '<=', '>', '>=', '==', '!='] as const

/**
 * `record[field] <op> value` on NDJSON lines without a backslash (the raw filter passes the
 * others untested): the member's number is read from the line's bytes. A line passes when the
 * comparison holds, and when there is no number to compare (no such member, another type, a
 * line this does not read as an object), since the decoded record then decides or fails.
 */
export class JsonCompareTest implements LineTest {
  readonly #key: Buffer
  readonly #op: number
  readonly #value: number
  #bytes: Buffer = Buffer.alloc(0)
  #tested = 0
  #passed = 0

  constructor (atom: CompareAtom) {
    this.#key = Buffer.from(atom.field)
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
    const n = memberNumber(this.#bytes, start, end, this.#key)
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
