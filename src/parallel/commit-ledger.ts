import { IntervalSet } from './interval-set.js'
import type { RecordErrorSample } from './types.js'
import type { CommitMessage } from './worker-protocol.js'

/** Missing ranges named in an error. */
const RANGES_NAMED = 10

/** The records the threads of a scan committed, with their match and skip counts. */
export class CommitLedger {
  readonly committed = new IntervalSet()
  readonly errors: RecordErrorSample[] = []
  matched = 0
  skipped = 0
  /** Records run a second time because the thread that started them died. */
  rerun = 0

  /** Books the ranges of a commit. */
  add (message: CommitMessage): void {
    const ranges = message.ranges
    let matched = 0
    for (let r = 0; r < ranges.length; r += 3) {
      this.committed.add(ranges[r], ranges[r + 1])
      matched += ranges[r + 2]
    }
    this.matched += matched
    this.skipped += message.skipped
    for (const sample of message.errors) this.errors.push(sample)
  }

  /** A record that failed outside its thread (its thread was ended), booked as skipped. */
  addSkipped (offset: number, message: string, code: string): void {
    this.committed.add(offset, offset + 1)
    this.skipped++
    this.errors.push({ offset, message, code })
  }

  /** Records committed, counting a record committed twice twice. */
  get size (): number {
    return this.committed.size
  }

  /** The ranges of [0, total) not committed. */
  missing (total: number): Array<[number, number]> {
    return this.committed.complement(total)
  }
}

/** The first few ranges as `[s, e), …` and how many more there are. */
export function describeRanges (ranges: Array<[number, number]>): string {
  const named = ranges.slice(0, RANGES_NAMED).map(([s, e]) => `[${s}, ${e})`).join(', ')
  return ranges.length > RANGES_NAMED ? `${named} and ${ranges.length - RANGES_NAMED} more ranges` : named
}
