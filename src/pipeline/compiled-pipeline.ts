import { compileExpression, compileIntRecordProgram, type CelProgram } from './cel-expression.js'
import { isUndecided, UNDECIDED } from './cel-fast-path.js'
import { celToJson } from './cel-to-json.js'
import { celTypeName } from './cel-type-name.js'
import { builtinProcess, type ProcessFunction } from './builtin-process.js'
import { processorOf, type Processor } from './processor.js'
import type { StepParams } from './step-params.js'
import { DEFAULT_VALUE_LIMITS, type ValueLimits } from './value-limits.js'
import { plainJson } from './plain-json.js'
import { jsonBytesUpTo, measuredOpaque, measuredUnwritable } from './value-size.js'
import { ValueTooLargeError } from '../errors.js'

type CompiledStep =
  /** intProgram: the filter on an int record as a JS number, when it is in the fast subset (see cel-fast-path.ts). */
  | { kind: 'filter', label: string, program: CelProgram, intProgram: CelProgram | undefined }
  | { kind: 'map', label: string, program: CelProgram }
  | { kind: 'processor', label: string, process: ProcessFunction, params: unknown }

/** Returned by `run` for a record that the pipeline drops. */
export const DROPPED: unique symbol = Symbol('dropped')

/** Whether `run` dropped the record (results are never symbols: see isRejected). */
export function isDropped (result: unknown): result is typeof DROPPED {
  return typeof result === 'symbol'
}

const loadedPlugins = new Map<string, Promise<Processor>>()

function loadPlugin (module: string, name: string): Promise<Processor> {
  let loaded = loadedPlugins.get(module)
  if (loaded === undefined) {
    loaded = import(module).catch(() => {
      throw new Error(`the plug-in of processor "${name}" cannot be loaded in a worker thread (the service log of a restart says why)`)
    }).then((exported: Record<string, unknown>) => {
      const processor = processorOf(exported)
      if (typeof processor === 'string' || processor.name !== name) throw new Error(`the plug-in of processor "${name}" no longer exports it`)
      return processor
    })
    loadedPlugins.set(module, loaded)
  }
  return loaded
}

/**
 * A scan's steps, compiled once per worker thread. Inside the pipeline values stay CEL values,
 * so an int made by one step is still an int in the next; they become JSON only where they
 * leave it (a processor's input, or the result).
 */
export class CompiledPipeline {
  readonly #steps: CompiledStep[]
  readonly #integerRecords: boolean
  readonly #limits: ValueLimits

  private constructor (steps: CompiledStep[], integerRecords: boolean, limits: ValueLimits) {
    this.#steps = steps
    this.#integerRecords = integerRecords
    this.#limits = limits
  }

  static #compileStep (step: StepParams, index: number, integerRecords: boolean, processor?: Processor): CompiledStep {
    const label = `pipeline[${index}].${step.kind}`
    // The kinds are the literals here, not step.kind: a string that came through structured clone is
    // not internalized, and run() would compare it character by character for every record.
    switch (step.kind) {
      case 'filter':
        return { kind: 'filter', label, program: compileExpression(step.expr, label), intProgram: integerRecords ? compileIntRecordProgram(step.expr) : undefined }
      case 'map':
        return { kind: 'map', label, program: compileExpression(step.expr, label) }
      case 'processor': {
        const process = processor === undefined ? builtinProcess.get(step.name) : processor.process.bind(processor)
        if (process === undefined) throw new Error(`${label}: unknown processor "${step.name}"`)
        return { kind: 'processor', label: `pipeline[${index}] (processor ${step.name})`, process, params: step.params }
      }
    }
  }

  /** Compiles steps that use only CEL and built-in processors. */
  static compileSync (steps: StepParams[], integerRecords: boolean, limits: ValueLimits = DEFAULT_VALUE_LIMITS): CompiledPipeline {
    return new CompiledPipeline(steps.map((step, i) => {
      if (step.kind === 'processor' && step.module !== undefined) throw new Error(`pipeline[${i}]: plug-in processor "${step.name}" needs init()`)
      return CompiledPipeline.#compileStep(step, i, integerRecords)
    }), integerRecords, limits)
  }

  /** Compiles steps, importing plug-in processors (once per thread). */
  static async compile (steps: StepParams[], integerRecords: boolean, limits: ValueLimits = DEFAULT_VALUE_LIMITS): Promise<CompiledPipeline> {
    const compiled: CompiledStep[] = []
    for (const [i, step] of steps.entries()) {
      const plugin = step.kind === 'processor' && step.module !== undefined ? await loadPlugin(step.module, step.name) : undefined
      compiled.push(CompiledPipeline.#compileStep(step, i, integerRecords, plugin))
    }
    return new CompiledPipeline(compiled, integerRecords, limits)
  }

  /** How many steps at the start are filters. */
  get leadingFilters (): number {
    const i = this.#steps.findIndex((step) => step.kind !== 'filter')
    return i === -1 ? this.#steps.length : i
  }

  get length (): number {
    return this.#steps.length
  }

  /**
   * Runs steps [from, to) on one JSON record. Returns DROPPED, or the result: plain JSON, or
   * with `celResult` the CEL value (ints as BigInt), as aggregate expressions want it. A value
   * that grows past the value limit after a step, or a result past the result limit, fails the
   * record with PARASCAN_VALUE_TOO_LARGE.
   */
  run (record: unknown, offset: number, celResult = false, from = 0, to = this.#steps.length): unknown {
    let json = record
    // An int record stays a JS number while filters of the fast subset decide on it; it becomes
    // the BigInt that CEL sees only when something needs that (no BigInt per record otherwise).
    let intNumber = this.#integerRecords && typeof record === 'number'
    let cel: unknown = record
    let jsonIsStale = false
    let bytes = -1
    let writable = true
    for (let i = from; i < to; i++) {
      const step = this.#steps[i]
      switch (step.kind) {
        case 'filter': {
          let keep = intNumber && step.intProgram !== undefined ? step.intProgram(cel) : UNDECIDED
          if (isUndecided(keep)) {
            if (intNumber) {
              cel = BigInt(cel as number)
              intNumber = false
            }
            keep = step.program(cel)
          }
          if (keep === false) return DROPPED
          if (keep !== true) throw new Error(`${step.label}: must be a bool, got ${celTypeName(keep)}`)
          break
        }
        case 'map':
          cel = step.program(intNumber ? BigInt(cel as number) : cel)
          intNumber = false
          if (cel === null || cel === undefined) return DROPPED
          jsonIsStale = true
          bytes = this.#checkValue(cel, step.label)
          break
        case 'processor':
          if (jsonIsStale) {
            json = celToJson(cel, step.label + ' input')
            jsonIsStale = false
          }
          try {
            json = step.process(json, step.params, offset)
          } catch (error) {
            throw new Error(`${step.label}: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
          }
          if (json === null || json === undefined) return DROPPED
          if (typeof json === 'symbol' || typeof json === 'function') throw new Error(`${step.label}: returned a ${typeof json}, which is not a JSON value`)
          if (json instanceof Promise) {
            // a rejection that no one handles would end the thread (or the process)
            json.then(undefined, () => {})
            throw new Error(`${step.label}: returned a promise, which is not a JSON value (process must return its result, not a promise)`)
          }
          bytes = this.#checkValue(json, step.label)
          if (measuredOpaque()) {
            json = plainJson(json, step.label)
            bytes = this.#checkValue(json, step.label)
          }
          cel = json
          intNumber = false
          writable = !measuredUnwritable()
          break
      }
    }
    if (celResult) return intNumber ? BigInt(cel as number) : cel
    if (bytes < 0) {
      bytes = jsonBytesUpTo(json, this.#limits.resultBytes)
      writable = !measuredUnwritable()
    }
    if (bytes > this.#limits.resultBytes) {
      throw new ValueTooLargeError('result', 'the result', this.#limits.resultBytes, 'PARASCAN_MAX_RESULT_BYTES')
    }
    // A record or a processor's value that holds a number JSON cannot write (1e400 in a file is
    // Infinity) fails as a map's value would, instead of leaving as null; a BigInt is written as an int.
    return jsonIsStale || !writable ? celToJson(jsonIsStale ? cel : json) : json
  }

  #checkValue (value: unknown, label: string): number {
    const bytes = jsonBytesUpTo(value, this.#limits.valueBytes)
    if (bytes > this.#limits.valueBytes) throw new ValueTooLargeError(label, 'the value', this.#limits.valueBytes, 'PARASCAN_MAX_VALUE_BYTES')
    return bytes
  }
}
