import type { Aggregator } from '../src/parallel/types.js'
import { Aggregation, type AggregateState } from '../src/pipeline/aggregation.js'
import type { ScanParams } from '../src/pipeline/scan-params.js'

import { teardown as closeScan } from './scan-task.js'

export { fetch, init, process } from './scan-task.js'

/** Scans whose aggregation a thread keeps (a failed scan's is never finished; the oldest goes first). */
const MAX_KEPT = 64
const aggregations = new Map<string, Aggregation>()
/**
 * The params object a thread was last asked about, its id then and its aggregation: add runs once
 * per kept record. The id is checked too, as params may be given a new id for the next scan.
 */
let last: { params: ScanParams, id: string, aggregation: Aggregation } | undefined

function aggregationOf (params: ScanParams): Aggregation {
  if (last !== undefined && last.params === params && last.id === params.id) return last.aggregation
  let aggregation = aggregations.get(params.id)
  if (aggregation === undefined) {
    if (params.aggregate === undefined) throw new Error('the scan has no aggregate')
    aggregation = new Aggregation(params.aggregate, params.limits)
    aggregations.set(params.id, aggregation)
    if (aggregations.size > MAX_KEPT) aggregations.delete(aggregations.keys().next().value as string)
  }
  last = { params, id: params.id, aggregation }
  return aggregation
}

function forget (params: ScanParams): void {
  aggregations.delete(params.id)
  if (last?.id === params.id) last = undefined
}

export function teardown (params: ScanParams): void {
  forget(params)
  closeScan(params)
}

/** Partial aggregates per worker, merged; the final rows are sorted by group. */
export const aggregate: Aggregator<AggregateState, ScanParams> = {
  create: (params) => aggregationOf(params).create(),
  add: (state, value, params) => aggregationOf(params).add(state, value),
  merge: (a, b, params) => aggregationOf(params).merge(a, b),
  finish: (state, params) => {
    if (params.partial === true) {
      forget(params)
      return [state]
    }
    const rows = aggregationOf(params).finish(state, params.aggregate?.group_by !== undefined)
    forget(params)
    return rows
  }
}
