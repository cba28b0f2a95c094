import { availableParallelism } from 'node:os'
import { ConfigError } from './errors.js'
import type { ParallelConfigOptions, SchedulerName } from './types.js'

export const SCHEDULERS: readonly SchedulerName[] = ['work_stealing', 'thread_pool', 'sequential']

/** Largest `max_inflight_chunks_per_worker`: the deque ring has room for this many ranges and more. */
export const MAX_INFLIGHT_LIMIT = 512
/** Largest `max_workers`. */
export const MAX_WORKERS_LIMIT = 256
const MAX_INT32 = 2 ** 31 - 1

interface KeySpec {
  env: string
  kind: 'int' | 'number' | 'scheduler'
  min: number
  max: number
  /** Lower bound is exclusive. */
  minExclusive?: boolean
}

const KEYS: Record<keyof ParallelConfigOptions, KeySpec> = {
  max_workers: { env: 'PROTO_PARALLEL_MAX_WORKERS', kind: 'int', min: 1, max: MAX_WORKERS_LIMIT },
  scheduler: { env: 'PROTO_PARALLEL_SCHEDULER', kind: 'scheduler', min: 0, max: 0 },
  initial_chunk_size: { env: 'PROTO_PARALLEL_INITIAL_CHUNK', kind: 'int', min: 1, max: MAX_INT32 },
  min_chunk_size: { env: 'PROTO_PARALLEL_MIN_CHUNK', kind: 'int', min: 1, max: MAX_INT32 },
  max_chunk_size: { env: 'PROTO_PARALLEL_MAX_CHUNK', kind: 'int', min: 1, max: MAX_INT32 },
  target_ms_low: { env: 'PROTO_PARALLEL_TARGET_MS_LOW', kind: 'number', min: 0, max: 60_000, minExclusive: true },
  target_ms_high: { env: 'PROTO_PARALLEL_TARGET_MS_HIGH', kind: 'number', min: 0, max: 60_000, minExclusive: true },
  chunk_ema_alpha: { env: 'PROTO_PARALLEL_EMA_ALPHA', kind: 'number', min: 0, max: 1, minExclusive: true },
  max_inflight_chunks_per_worker: { env: 'PROTO_PARALLEL_MAX_INFLIGHT', kind: 'int', min: 1, max: MAX_INFLIGHT_LIMIT }
}

export const CONFIG_KEYS = Object.keys(KEYS) as Array<keyof ParallelConfigOptions>

/** The default of every key but max_workers, which depends on the machine. */
export const PARALLEL_DEFAULTS: Readonly<Required<Omit<ParallelConfigOptions, 'max_workers'>>> = Object.freeze({
  scheduler: 'work_stealing',
  initial_chunk_size: 1000,
  min_chunk_size: 128,
  max_chunk_size: 8192,
  target_ms_low: 0.5,
  target_ms_high: 2.0,
  chunk_ema_alpha: 0.2,
  max_inflight_chunks_per_worker: 2
})

function defaults (): Required<ParallelConfigOptions> {
  return { max_workers: Math.min(availableParallelism(), 8), ...PARALLEL_DEFAULTS }
}

/**
 * Validated engine settings. Each key is taken from the explicit options,
 * else from its PROTO_PARALLEL_* environment variable, else from its default.
 * The environment is read when the config is built. Every bad value throws
 * a PARASCAN_INVALID_CONFIG error naming the key (and the variable) and the
 * value; an initial_chunk_size outside [min_chunk_size, max_chunk_size] is
 * rejected, not clamped.
 */
export class ParallelConfig implements Required<ParallelConfigOptions> {
  readonly max_workers!: number
  readonly scheduler!: SchedulerName
  readonly initial_chunk_size!: number
  readonly min_chunk_size!: number
  readonly max_chunk_size!: number
  readonly target_ms_low!: number
  readonly target_ms_high!: number
  readonly chunk_ema_alpha!: number
  readonly max_inflight_chunks_per_worker!: number

  constructor (options: ParallelConfigOptions = {}, env: NodeJS.ProcessEnv = process.env) {
    if (options === null || typeof options !== 'object') {
      throw new ConfigError(`options must be an object, got ${describe(options)}`)
    }
    for (const key of Object.keys(options)) {
      if (!(key in KEYS)) throw new ConfigError(`unknown key ${key}`)
    }
    const values = defaults() as unknown as Record<string, unknown>
    const sources: Record<string, string> = {}
    for (const key of CONFIG_KEYS) {
      const spec = KEYS[key]
      const explicit = options[key]
      if (explicit !== undefined) {
        values[key] = check(key, spec, explicit, key)
        sources[key] = key
      } else if (env[spec.env] !== undefined && env[spec.env] !== '') {
        const where = `${key} (from ${spec.env})`
        values[key] = check(key, spec, parseEnv(spec, env[spec.env] as string), where, env[spec.env])
        sources[key] = where
      } else {
        sources[key] = key
      }
    }
    const v = values as unknown as Required<ParallelConfigOptions>
    if (v.min_chunk_size > v.max_chunk_size) {
      throw new ConfigError(`${sources.min_chunk_size} = ${v.min_chunk_size} is greater than ${sources.max_chunk_size} = ${v.max_chunk_size}`)
    }
    if (v.initial_chunk_size < v.min_chunk_size || v.initial_chunk_size > v.max_chunk_size) {
      throw new ConfigError(`${sources.initial_chunk_size} = ${v.initial_chunk_size} is outside [min_chunk_size, max_chunk_size] = [${v.min_chunk_size}, ${v.max_chunk_size}]`)
    }
    if (v.target_ms_low > v.target_ms_high) {
      throw new ConfigError(`${sources.target_ms_low} = ${v.target_ms_low} is greater than ${sources.target_ms_high} = ${v.target_ms_high}`)
    }
    Object.assign(this, v)
    Object.freeze(this)
  }

  /** The nine keys as a plain object (structured-cloneable, JSON-friendly). */
  toJSON (): Required<ParallelConfigOptions> {
    const out: Record<string, unknown> = {}
    for (const key of CONFIG_KEYS) out[key] = this[key]
    return out as unknown as Required<ParallelConfigOptions>
  }

  /** A config with `overrides` applied over these values; the environment is not read again. */
  with (overrides: ParallelConfigOptions = {}): ParallelConfig {
    return new ParallelConfig({ ...this.toJSON(), ...overrides }, {})
  }
}

function parseEnv (spec: KeySpec, raw: string): unknown {
  if (spec.kind === 'scheduler') return raw.trim()
  const text = raw.trim()
  if (text === '' || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return raw
  return Number(text)
}

function check (key: string, spec: KeySpec, value: unknown, where: string, raw?: string): unknown {
  const shown = raw === undefined ? describe(value) : JSON.stringify(raw)
  if (spec.kind === 'scheduler') {
    if (typeof value !== 'string' || !SCHEDULERS.includes(value as SchedulerName)) {
      throw new ConfigError(`${where} must be one of ${SCHEDULERS.join(', ')}, got ${shown}`)
    }
    return value
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ConfigError(`${where} must be a finite number, got ${shown}`)
  }
  if (spec.kind === 'int' && !Number.isInteger(value)) {
    throw new ConfigError(`${where} must be an integer, got ${shown}`)
  }
  const tooLow = spec.minExclusive === true ? value <= spec.min : value < spec.min
  if (tooLow || value > spec.max) {
    const range = `${spec.minExclusive === true ? '(' : '['}${spec.min}, ${spec.max}]`
    throw new ConfigError(`${where} must be in ${range}, got ${shown}`)
  }
  return value
}

function describe (value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value)
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}
