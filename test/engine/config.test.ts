import assert from 'node:assert/strict'
import { availableParallelism } from 'node:os'
import { test } from 'node:test'
import { ParallelConfig } from '../../src/index.js'

const ENV_NAMES = {
  max_workers: 'PROTO_PARALLEL_MAX_WORKERS',
  scheduler: 'PROTO_PARALLEL_SCHEDULER',
  initial_chunk_size: 'PROTO_PARALLEL_INITIAL_CHUNK',
  min_chunk_size: 'PROTO_PARALLEL_MIN_CHUNK',
  max_chunk_size: 'PROTO_PARALLEL_MAX_CHUNK',
  target_ms_low: 'PROTO_PARALLEL_TARGET_MS_LOW',
  target_ms_high: 'PROTO_PARALLEL_TARGET_MS_HIGH',
  chunk_ema_alpha: 'PROTO_PARALLEL_EMA_ALPHA',
  max_inflight_chunks_per_worker: 'PROTO_PARALLEL_MAX_INFLIGHT'
}

test('defaults are the seed defaults, frozen', () => {
  const config = new ParallelConfig({}, {})
  assert.deepEqual(config.toJSON(), {
    max_workers: Math.min(availableParallelism(), 8),
    scheduler: 'work_stealing',
    initial_chunk_size: 1000,
    min_chunk_size: 128,
    max_chunk_size: 8192,
    target_ms_low: 0.5,
    target_ms_high: 2.0,
    chunk_ema_alpha: 0.2,
    max_inflight_chunks_per_worker: 2
  })
  assert.ok(Object.isFrozen(config))
  assert.throws(() => { (config as { max_workers: number }).max_workers = 3 }, TypeError)
})

test('every key has its environment variable; explicit options win over env', () => {
  const env = {
    PROTO_PARALLEL_MAX_WORKERS: '3',
    PROTO_PARALLEL_SCHEDULER: 'thread_pool',
    PROTO_PARALLEL_INITIAL_CHUNK: '500',
    PROTO_PARALLEL_MIN_CHUNK: '64',
    PROTO_PARALLEL_MAX_CHUNK: '4096',
    PROTO_PARALLEL_TARGET_MS_LOW: '0.25',
    PROTO_PARALLEL_TARGET_MS_HIGH: '3',
    PROTO_PARALLEL_EMA_ALPHA: '0.5',
    PROTO_PARALLEL_MAX_INFLIGHT: '4'
  }
  assert.deepEqual(new ParallelConfig({}, env).toJSON(), {
    max_workers: 3,
    scheduler: 'thread_pool',
    initial_chunk_size: 500,
    min_chunk_size: 64,
    max_chunk_size: 4096,
    target_ms_low: 0.25,
    target_ms_high: 3,
    chunk_ema_alpha: 0.5,
    max_inflight_chunks_per_worker: 4
  })
  const mixed = new ParallelConfig({ max_workers: 2, scheduler: 'sequential', initial_chunk_size: 64 }, env)
  assert.equal(mixed.max_workers, 2)
  assert.equal(mixed.scheduler, 'sequential')
  assert.equal(mixed.initial_chunk_size, 64)
  assert.equal(mixed.max_chunk_size, 4096)
})

test('process.env is read when the config is built, not at import', () => {
  const before = process.env.PROTO_PARALLEL_MAX_INFLIGHT
  try {
    process.env.PROTO_PARALLEL_MAX_INFLIGHT = '7'
    assert.equal(new ParallelConfig().max_inflight_chunks_per_worker, 7)
    process.env.PROTO_PARALLEL_MAX_INFLIGHT = '5'
    assert.equal(new ParallelConfig().max_inflight_chunks_per_worker, 5)
  } finally {
    if (before === undefined) delete process.env.PROTO_PARALLEL_MAX_INFLIGHT
    else process.env.PROTO_PARALLEL_MAX_INFLIGHT = before
  }
})

test('a bad env value names the key, the variable and the value', () => {
  const cases: Array<[keyof typeof ENV_NAMES, string]> = [
    ['max_workers', 'four'], ['max_workers', '2.5'], ['max_workers', '0'], ['max_workers', '-1'],
    ['scheduler', 'fifo'], ['initial_chunk_size', '1e400'], ['min_chunk_size', '0x10'],
    ['max_chunk_size', ''.padEnd(3, 'x')], ['target_ms_low', '0'], ['target_ms_high', 'NaN'],
    ['chunk_ema_alpha', '1.5'], ['chunk_ema_alpha', '0'], ['max_inflight_chunks_per_worker', '0']
  ]
  for (const [key, raw] of cases) {
    const env = { [ENV_NAMES[key]]: raw }
    assert.throws(() => new ParallelConfig({}, env), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'PARASCAN_INVALID_CONFIG')
      assert.match(error.message, new RegExp(`${key} \\(from ${ENV_NAMES[key]}\\)`))
      assert.ok(error.message.includes(raw), `${error.message} names ${raw}`)
      return true
    }, `${key}=${raw}`)
  }
})

test('every kind of bad explicit value is rejected with the key and value', () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ max_workers: 'two' }, /max_workers must be a finite number, got "two"/],
    [{ max_workers: 1.5 }, /max_workers must be an integer, got 1.5/],
    [{ max_workers: 0 }, /max_workers must be in \[1, 256\], got 0/],
    [{ max_workers: Infinity }, /max_workers must be a finite number, got Infinity/],
    [{ scheduler: 'round_robin' }, /scheduler must be one of work_stealing, thread_pool, sequential, got "round_robin"/],
    [{ initial_chunk_size: -5 }, /initial_chunk_size must be in \[1, 2147483647\], got -5/],
    [{ min_chunk_size: 256, max_chunk_size: 128, initial_chunk_size: 200 }, /min_chunk_size = 256 is greater than max_chunk_size = 128/],
    [{ initial_chunk_size: 50 }, /initial_chunk_size = 50 is outside \[min_chunk_size, max_chunk_size\] = \[128, 8192\]/],
    [{ initial_chunk_size: 10_000 }, /initial_chunk_size = 10000 is outside/],
    [{ target_ms_low: 3, target_ms_high: 2 }, /target_ms_low = 3 is greater than target_ms_high = 2/],
    [{ target_ms_low: -1 }, /target_ms_low must be in \(0, 60000\], got -1/],
    [{ chunk_ema_alpha: 0 }, /chunk_ema_alpha must be in \(0, 1\], got 0/],
    [{ chunk_ema_alpha: 1.01 }, /chunk_ema_alpha must be in \(0, 1\], got 1.01/],
    [{ max_inflight_chunks_per_worker: 0 }, /max_inflight_chunks_per_worker must be in \[1, 512\], got 0/],
    [{ max_inflight_chunks_per_worker: 2.5 }, /max_inflight_chunks_per_worker must be an integer/],
    [{ chunk_size: 10 }, /unknown key chunk_size/]
  ]
  for (const [options, message] of cases) {
    assert.throws(() => new ParallelConfig(options as never, {}), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'PARASCAN_INVALID_CONFIG')
      assert.match(error.message, message)
      return true
    }, JSON.stringify(options))
  }
  assert.throws(() => new ParallelConfig({}, { PROTO_PARALLEL_MIN_CHUNK: '9000' }), /min_chunk_size \(from PROTO_PARALLEL_MIN_CHUNK\) = 9000 is greater than max_chunk_size = 8192/)
})

test('alpha 1 and equal targets are allowed; with() applies overrides without reading env again', () => {
  const config = new ParallelConfig({ chunk_ema_alpha: 1, target_ms_low: 1, target_ms_high: 1 }, {})
  assert.equal(config.chunk_ema_alpha, 1)
  const narrowed = config.with({ max_workers: 1 })
  assert.equal(narrowed.max_workers, 1)
  assert.equal(narrowed.target_ms_low, 1)
  assert.throws(() => config.with({ min_chunk_size: 0 }), /min_chunk_size must be in/)
})
