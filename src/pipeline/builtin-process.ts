import { processSynthetic, type SyntheticParams } from './synthetic-cost.js'

export type ProcessFunction = (record: unknown, params: unknown, offset: number) => unknown

/** The process functions of the built-in processors, without their schemas (what worker threads need). */
export const builtinProcess: ReadonlyMap<string, ProcessFunction> = new Map<string, ProcessFunction>([
  ['synthetic', (record, params, offset) => processSynthetic(record, params as SyntheticParams, offset)]
])
