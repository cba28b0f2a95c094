import type { ScanParams } from '../src/pipeline/scan-params.js'
import { RecordFailure, ScanTaskState } from '../src/pipeline/scan-task-state.js'

const states = new Map<string, ScanTaskState>()

function stateOf (params: ScanParams): ScanTaskState {
  let state = states.get(params.id)
  if (state === undefined) {
    state = ScanTaskState.openSync(params)
    states.set(params.id, state)
  }
  return state
}

export async function init (params: ScanParams): Promise<void> {
  if (!states.has(params.id)) states.set(params.id, await ScanTaskState.open(params))
}

/** Reads and runs the whole chunk here, in one loop: process only hands each result over. The array is filled again by the next fetch. */
export function fetch (offset: number, count: number, params: ScanParams): unknown[] {
  return stateOf(params).processChunk(offset + (params.base ?? 0), count)
}

export function process (result: unknown): unknown {
  if (result instanceof RecordFailure) throw result.error
  return result
}

/** The kept results of a chunk in one call; stops at a failed record, whose process throws. */
export function collect (results: unknown[], _params: ScanParams, from: number, out: unknown[]): number {
  for (let i = from; i < results.length; i++) {
    const result = results[i]
    if (result === null || result === undefined) continue
    if (result instanceof RecordFailure) return i
    out.push(result)
  }
  return results.length
}

export function teardown (params: ScanParams): void {
  const state = states.get(params.id)
  states.delete(params.id)
  state?.close()
}
