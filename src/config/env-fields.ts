import { z } from 'zod'
import { parseDuration } from './duration.js'

/** What docs/configuration.md states of a variable; a test holds the two together. */
export interface VariableDoc {
  /** The default as written in the environment; undefined: unset. */
  default?: string
  /** Accepted values, e.g. `0..65535` or `a duration`. */
  range: string
}

export const doc = <T extends z.ZodType>(schema: T, variable: VariableDoc): T => schema.meta({ variable })

export const duration = (fallback: string, range = 'a duration') => doc(z.string().default(fallback).transform((text, ctx) => {
  const ms = parseDuration(text)
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration (e.g. 500ms, 30s, 15m, 24h, 7d)` })
    return z.NEVER
  }
  return ms
}), { default: fallback, range })

export const integer = (fallback: number, min: number, max: number) =>
  doc(z.string().default(String(fallback)).transform((text, ctx) => {
    const value = Number(text)
    if (!/^\s*\d+\s*$/.test(text) || value < min || value > max) {
      ctx.addIssue({ code: 'custom', message: `"${text}" must be an integer from ${min} to ${max}` })
      return z.NEVER
    }
    return value
  }), { default: String(fallback), range: `${min}..${max}` })

export const boolean = (fallback: 'true' | 'false') =>
  doc(z.enum(['true', 'false'], { message: 'must be true or false' }).default(fallback).transform((text) => text === 'true'), { default: fallback, range: 'true, false' })

export const optionalText = (range: string) => doc(z.string().trim().min(1).optional().catch(undefined), { range })

export const parsed = <T>(parse: (text: string) => T, range: string) => doc(z.string().optional().transform((text, ctx) => {
  if (text === undefined || text.trim() === '') return undefined
  try {
    return parse(text.trim())
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message })
    return z.NEVER
  }
}), { range })
