import type { AggregateSpec } from '../../schemas/scan-request.js'
import { compileExpression, type CelProgram } from './cel-expression.js'
import { celToJson } from './cel-to-json.js'
import { celTypeName } from './cel-type-name.js'
import { compareGroups } from './group-order.js'
import { setOwnProperty } from './own-property.js'
import { DEFAULT_VALUE_LIMITS, type ValueLimits } from './value-limits.js'
import { TooManyGroupsError, ValueTooLargeError } from '../errors.js'

type Op = AggregateSpec['metrics'][string]['op']

/** Per metric: count and sum a number, min and max a number or null, avg [sum, count]. */
type MetricState = number | null | [number, number]

/** Partial aggregate, a JSON value: group key (JSON text of the group) → [group, ...metric states]. */
export type AggregateState = Record<string, [unknown, ...MetricState[]]>

interface Metric {
  name: string
  op: Op
  label: string
  program?: CelProgram
}

/**
 * The op as the literal of this module: one that came through structured clone is not an
 * internalized string, and add() would compare it character by character for every record.
 */
function ownOp (op: Op): Op {
  switch (op) {
    case 'count': return 'count'
    case 'sum': return 'sum'
    case 'min': return 'min'
    case 'max': return 'max'
    case 'avg': return 'avg'
  }
}

function initial (op: Op): MetricState {
  switch (op) {
    case 'count':
    case 'sum': return 0
    case 'min':
    case 'max': return null
    case 'avg': return [0, 0]
  }
}

function toNumber (value: unknown, label: string): number | null {
  switch (typeof value) {
    case 'number': return value
    case 'bigint': return Number(value)
    case 'object':
      if (value === null) return null
      if (value.constructor?.name === 'UnsignedInt') return Number((value as { value: bigint }).value)
  }
  throw new Error(`${label}: must be a number, got ${celTypeName(value)}`)
}

function combine (op: Op, a: MetricState, b: MetricState): MetricState {
  switch (op) {
    case 'count':
    case 'sum': return (a as number) + (b as number)
    case 'min': return a === null ? b : b === null ? a : Math.min(a as number, b as number)
    case 'max': return a === null ? b : b === null ? a : Math.max(a as number, b as number)
    case 'avg': {
      const [sa, ca] = a as [number, number]
      const [sb, cb] = b as [number, number]
      return [sa + sb, ca + cb]
    }
  }
}

/**
 * count / sum / min / max / avg over CEL expressions, with an optional group_by, folded into
 * JSON partial states in each worker and merged. Nulls are left out, as in SQL: count(expr)
 * counts the records whose expr is not null; count without expr counts records.
 */
export class Aggregation {
  readonly #groupBy?: CelProgram
  readonly #metrics: Metric[]
  readonly #limits: ValueLimits
  readonly #groups = new WeakMap<AggregateState, number>()

  constructor (spec: AggregateSpec, limits: ValueLimits = DEFAULT_VALUE_LIMITS) {
    this.#limits = limits
    if (spec.group_by !== undefined) this.#groupBy = compileExpression(spec.group_by, 'aggregate.group_by')
    this.#metrics = Object.entries(spec.metrics).map(([name, metric]) => {
      const label = `aggregate.metrics.${name}.expr`
      return { name, op: ownOp(metric.op), label, program: metric.expr === undefined ? undefined : compileExpression(metric.expr, label) }
    })
  }

  create (): AggregateState {
    return {}
  }

  /** Folds one record (a CEL value) into `state`, in place. */
  add (state: AggregateState, record: unknown): AggregateState {
    const group = this.#groupBy === undefined ? null : celToJson(this.#groupBy(record), 'aggregate.group_by')
    const key = group === null ? 'null' : JSON.stringify(group)
    let row = Object.hasOwn(state, key) ? state[key] : undefined
    if (row === undefined) {
      if (key.length > this.#limits.valueBytes) {
        throw new ValueTooLargeError('aggregate.group_by', 'the group', this.#limits.valueBytes, 'PARASCAN_MAX_VALUE_BYTES')
      }
      const groups = (this.#groups.get(state) ?? Object.keys(state).length) + 1
      if (groups > this.#limits.groups) throw new TooManyGroupsError(this.#limits.groups)
      this.#groups.set(state, groups)
      row = [group, ...this.#metrics.map((metric) => initial(metric.op))]
      state[key] = row
    }
    for (let i = 0; i < this.#metrics.length; i++) {
      const metric = this.#metrics[i]
      if (metric.program === undefined) {
        (row[i + 1] as number)++
        continue
      }
      const value = toNumber(metric.program(record), metric.label)
      if (value === null) continue
      if (!Number.isFinite(value)) throw new Error(`${metric.label}: ${value} is not a finite number`)
      row[i + 1] = combine(metric.op, row[i + 1] as MetricState, metric.op === 'count' ? 1 : metric.op === 'avg' ? [value, 1] : value)
    }
    return state
  }

  /** Merges `b` into `a`. */
  merge (a: AggregateState, b: AggregateState): AggregateState {
    let groups = this.#groups.get(a) ?? Object.keys(a).length
    for (const key of Object.keys(b)) {
      const theirs = b[key]
      const ours = Object.hasOwn(a, key) ? a[key] : undefined
      if (ours === undefined) {
        if (++groups > this.#limits.groups) throw new TooManyGroupsError(this.#limits.groups)
        a[key] = theirs
        continue
      }
      for (let i = 0; i < this.#metrics.length; i++) {
        ours[i + 1] = combine(this.#metrics[i].op, ours[i + 1] as MetricState, theirs[i + 1] as MetricState)
      }
    }
    this.#groups.set(a, groups)
    return a
  }

  /** Rows `{ group, <name>: number|null }` sorted by group; without group_by always one row. */
  finish (state: AggregateState, grouped: boolean): Record<string, unknown>[] {
    const rows = Object.values(state)
    if (!grouped && rows.length === 0) rows.push([null, ...this.#metrics.map((metric) => initial(metric.op))])
    rows.sort((a, b) => compareGroups(a[0], b[0]))
    return rows.map(([group, ...states]) => {
      const row: Record<string, unknown> = { group }
      this.#metrics.forEach((metric, i) => {
        const s = states[i]
        setOwnProperty(row, metric.name, metric.op === 'avg' ? ((s as [number, number])[1] === 0 ? null : (s as [number, number])[0] / (s as [number, number])[1]) : s)
      })
      return row
    })
  }
}
