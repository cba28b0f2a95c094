import type { RawPredicate } from './raw-predicate.js'

type Atom = Extract<RawPredicate, { kind: 'equals' | 'contains' }>
export type CompareAtom = Extract<RawPredicate, { kind: 'compare' }>

/** How a format writes an atom: bytes that the record of every line satisfying it holds. */
export interface AtomSpelling {
  needle: Buffer
  /** When a chunk does not hold these bytes at all, the atom rules out no line of it. */
  key?: Buffer
}

/** The spelling of an atom in one format, or undefined when a line may satisfy it without fixed bytes. */
export type SpellAtom = (atom: Atom) => AtomSpelling | undefined

export interface RawLineFilterOptions {
  /** A line holding this byte passes (NDJSON: `\`, since escapes spell a string in other bytes). */
  escape?: number
  /** A line that does not start with this byte passes (NDJSON: `{`). */
  opener?: number
  /** The test of a comparison with a number in a format; without it, comparisons rule out nothing. */
  compare?: (atom: CompareAtom) => LineTest | undefined
}

/** Above this share of lines passing, a chunk is read whole: the filter would cost more than it saves. */
const MOSTLY_PASSING = 0.8
/** Chunks read whole before the filter is tried again. */
const CHUNKS_UNFILTERED = 7

/** A test of the lines of a chunk, in increasing order. */
export interface LineTest {
  begin(bytes: Buffer): void
  pass(start: number, end: number): boolean
  /** Smoothed share of the lines tested that passed. */
  readonly rate: number
}

/**
 * One needle, searched natively with Buffer.indexOf. Lines are tested in increasing order, so
 * the position of the next occurrence is kept: a line below it is answered without a search,
 * and a chunk costs one search per line that holds the needle, whatever the lines between.
 */
class NeedleTest implements LineTest {
  readonly #needle: Buffer
  readonly #key: Buffer | undefined
  #bytes: Buffer = Buffer.alloc(0)
  #next = -1
  #off = false
  #tested = 0
  #passed = 0

  constructor (spelling: AtomSpelling) {
    this.#needle = spelling.needle
    this.#key = spelling.key
  }

  get rate (): number {
    return (this.#passed + 1) / (this.#tested + 2)
  }

  begin (bytes: Buffer): void {
    this.#bytes = bytes
    this.#next = -1
    this.#off = this.#key !== undefined && bytes.indexOf(this.#key) === -1
  }

  pass (start: number, end: number): boolean {
    this.#tested++
    if (this.#off) {
      this.#passed++
      return true
    }
    let next = this.#next
    if (next < start) {
      next = this.#bytes.indexOf(this.#needle, start)
      this.#next = next = next === -1 ? Infinity : next
    }
    if (next >= end) return false
    this.#passed++
    return true
  }
}

/**
 * A conjunction (`all`) or disjunction of tests, as a cascade: the part most likely to decide
 * runs first, ordered again at every chunk from the share of lines each part has passed so far
 * (Sparser's optimizer, on the data itself and at no extra cost).
 */
class CascadeTest implements LineTest {
  readonly #parts: LineTest[]
  readonly #all: boolean

  constructor (parts: LineTest[], all: boolean) {
    this.#parts = parts
    this.#all = all
  }

  get rate (): number {
    let rate = this.#all ? 1 : 0
    for (const part of this.#parts) rate = this.#all ? Math.min(rate, part.rate) : Math.max(rate, part.rate)
    return rate
  }

  begin (bytes: Buffer): void {
    for (const part of this.#parts) part.begin(bytes)
    this.#parts.sort(this.#all ? (a, b) => a.rate - b.rate : (a, b) => b.rate - a.rate)
  }

  pass (start: number, end: number): boolean {
    const parts = this.#parts
    if (this.#all) {
      for (let i = 0; i < parts.length; i++) if (!parts[i].pass(start, end)) return false
      return true
    }
    for (let i = 0; i < parts.length; i++) if (parts[i].pass(start, end)) return true
    return false
  }
}

function compileTest (predicate: RawPredicate, spell: SpellAtom, options: RawLineFilterOptions): LineTest | undefined {
  switch (predicate.kind) {
    case 'equals':
    case 'contains': {
      const spelling = spell(predicate)
      return spelling === undefined ? undefined : new NeedleTest(spelling)
    }
    case 'compare':
      return options.compare?.(predicate)
    case 'all': {
      const parts = predicate.parts.map((part) => compileTest(part, spell, options)).filter((part) => part !== undefined)
      return parts.length <= 1 ? parts[0] : new CascadeTest(parts, true)
    }
    case 'any': {
      const parts = predicate.parts.map((part) => compileTest(part, spell, options))
      if (parts.length === 0 || parts.some((part) => part === undefined)) return undefined
      return parts.length === 1 ? parts[0] : new CascadeTest(parts as LineTest[], false)
    }
  }
}

/**
 * Tests lines of raw bytes against a predicate before anything is decoded. It may let a line
 * through whose record does not satisfy the predicate (the pipeline then drops it), but never
 * rules out one whose record does.
 */
export class RawLineFilter {
  readonly #test: LineTest
  readonly #escape: number
  readonly #opener: number
  #bytes: Buffer = Buffer.alloc(0)
  #nextEscape = Infinity
  #unfiltered = 0

  private constructor (test: LineTest, options: RawLineFilterOptions) {
    this.#test = test
    this.#escape = options.escape ?? -1
    this.#opener = options.opener ?? -1
  }

  /** The filter of `predicate` for a format, or undefined when the predicate rules out no bytes. */
  static compile (predicate: RawPredicate, spell: SpellAtom, options: RawLineFilterOptions = {}): RawLineFilter | undefined {
    const test = compileTest(predicate, spell, options)
    return test === undefined ? undefined : new RawLineFilter(test, options)
  }

  /** Starts a chunk; false when it is to be read whole, unfiltered (the filter passed most lines lately). */
  begin (bytes: Buffer): boolean {
    if (this.#unfiltered > 0) {
      this.#unfiltered--
      return false
    }
    this.#bytes = bytes
    this.#test.begin(bytes)
    this.#nextEscape = this.#escape < 0 ? Infinity : -1
    return true
  }

  /** Whether the record in bytes [start, end) of the chunk may satisfy the predicate. */
  pass (start: number, end: number): boolean {
    if (this.#opener >= 0 && this.#bytes[start] !== this.#opener) return true
    if (this.#nextEscape < end) {
      if (this.#nextEscape < start) {
        const next = this.#bytes.indexOf(this.#escape, start)
        this.#nextEscape = next === -1 ? Infinity : next
      }
      if (this.#nextEscape < end) return true
    }
    return this.#test.pass(start, end)
  }

  /** Ends a chunk of `lines` lines of which `passed` passed. */
  end (lines: number, passed: number): void {
    if (passed > lines * MOSTLY_PASSING) this.#unfiltered = CHUNKS_UNFILTERED
  }
}
