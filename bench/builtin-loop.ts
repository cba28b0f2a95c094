import type { TaskModule } from '../src/parallel/types.js'

/** Records the benchmark's plain loops fetch at a time. */
const CHUNK = 4096

/**
 * The plain sequential loop of the built-in pipeline benchmark: the task's fetch over
 * [lo, hi), 4096 records at a time, and its results handed over the way the engine hands
 * them over (collect when the module has it, else process per record), into `out`.
 */
export function loopRange (task: TaskModule, params: unknown, lo: number, hi: number, out: unknown[]): void {
  for (let offset = lo; offset < hi; offset += CHUNK) {
    const count = Math.min(CHUNK, hi - offset)
    const records = task.fetch(offset, count, params) as unknown[]
    if (task.collect !== undefined) {
      if (task.collect(records, params, 0, out) !== count) throw new Error(`a record failed in [${offset}, ${offset + count})`)
      continue
    }
    for (let i = 0; i < count; i++) {
      const value = task.process(records[i], params, offset + i)
      if (value !== null && value !== undefined) out.push(value)
    }
  }
}
