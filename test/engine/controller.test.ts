import assert from 'node:assert/strict'
import { test } from 'node:test'
import { AdaptiveChunkController } from '../../src/index.js'

function fakeClock (): { now: () => number, advance: (ms: number) => void } {
  let t = 0
  return { now: () => t, advance: (ms) => { t += ms } }
}

/** Runs `chunks` chunks whose records each take `msPerRecord` on the fake clock. */
function drive (ctrl: AdaptiveChunkController, clock: ReturnType<typeof fakeClock>, msPerRecord: number, chunks: number): number[] {
  const sizes: number[] = []
  for (let i = 0; i < chunks; i++) {
    const size = ctrl.size
    sizes.push(size)
    ctrl.start()
    clock.advance(size * msPerRecord)
    assert.ok(Math.abs(ctrl.finish(size) - size * msPerRecord) < 1e-9)
  }
  return sizes
}

test('grows while chunks are faster than target_ms_low, at most 2x per chunk, up to max', () => {
  const clock = fakeClock()
  const ctrl = new AdaptiveChunkController({ now: clock.now })
  const sizes = drive(ctrl, clock, 0.00001, 12)
  assert.equal(sizes[0], 1000)
  for (let i = 1; i < sizes.length; i++) {
    assert.ok(sizes[i] >= sizes[i - 1] && sizes[i] <= 2 * sizes[i - 1], `${sizes[i - 1]} -> ${sizes[i]}`)
  }
  assert.equal(ctrl.size, 8192)
})

test('shrinks at once when chunks are slower than target_ms_high, down to min', () => {
  const clock = fakeClock()
  const ctrl = new AdaptiveChunkController({ now: clock.now, chunk_ema_alpha: 1 })
  drive(ctrl, clock, 0.01, 1)
  assert.equal(ctrl.size, 128, 'a 100-record target is clamped to min_chunk_size')
  const slow = new AdaptiveChunkController({ now: clock.now, chunk_ema_alpha: 1, min_chunk_size: 16, initial_chunk_size: 1000 })
  drive(slow, clock, 0.01, 1)
  assert.equal(slow.size, 100)
  drive(slow, clock, 10, 3)
  assert.equal(slow.size, 16)
})

test('settles inside the band and stays there', () => {
  const clock = fakeClock()
  const ctrl = new AdaptiveChunkController({ now: clock.now, min_chunk_size: 1, max_chunk_size: 1_000_000 })
  const perRecord = 0.0013
  drive(ctrl, clock, perRecord, 30)
  const settled = drive(ctrl, clock, perRecord, 10)
  for (const size of settled) {
    const ms = size * perRecord
    assert.ok(ms >= 0.5 && ms <= 2.0, `chunk of ${size} takes ${ms} ms`)
    assert.equal(size, settled[0])
  }
})

test('the EMA weighs the newest chunk by alpha', () => {
  const clock = fakeClock()
  const ctrl = new AdaptiveChunkController({ now: clock.now, chunk_ema_alpha: 0.25 })
  ctrl.observe(100, 1)
  assert.ok(Math.abs(ctrl.emaMsPerRecord - 0.01) < 1e-12)
  ctrl.observe(100, 5)
  assert.ok(Math.abs(ctrl.emaMsPerRecord - (0.25 * 0.05 + 0.75 * 0.01)) < 1e-12)
  ctrl.observe(0, 100)
  assert.ok(Math.abs(ctrl.emaMsPerRecord - 0.02) < 1e-12, 'an empty chunk changes nothing')
})

test('clamps the initial size and every step to [min, max]', () => {
  const clock = fakeClock()
  const ctrl = new AdaptiveChunkController({ now: clock.now, initial_chunk_size: 5, min_chunk_size: 10, max_chunk_size: 40 })
  assert.equal(ctrl.size, 10)
  drive(ctrl, clock, 0, 5)
  assert.equal(ctrl.size, 40)
  drive(ctrl, clock, 100, 2)
  assert.equal(ctrl.size, 10)
})

test('restart forgets the learned cost: the first chunk of a costlier range is min_chunk_size, then it settles in the band', () => {
  const clock = fakeClock()
  const ctrl = new AdaptiveChunkController({ now: clock.now })
  drive(ctrl, clock, 0.00001, 20)
  assert.equal(ctrl.size, 8192)
  ctrl.restart()
  assert.equal(ctrl.emaMsPerRecord, -1)
  const sizes = drive(ctrl, clock, 0.01, 4)
  assert.equal(sizes[0], 128)
  const last = sizes[sizes.length - 1] * 0.01
  assert.ok(last >= 0.5 && last <= 2, `chunk of ${last} ms`)
})
