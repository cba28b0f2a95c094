import type { ScanParams } from '../src/pipeline/scan-params.js'
import { ScanTaskState } from '../src/pipeline/scan-task-state.js'

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

export function fetch (offset: number, count: number, params: ScanParams): unknown[] {
  return stateOf(params).reader.read(offset + (params.base ?? 0), count)
}

export function process (raw: unknown, params: ScanParams, offset: number): unknown {
  return stateOf(params).process(raw, offset + (params.base ?? 0))
}

export function teardown (params: ScanParams): void {
  const state = states.get(params.id)
  states.delete(params.id)
  state?.close()
}
