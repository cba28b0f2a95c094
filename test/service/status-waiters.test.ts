import { test } from 'node:test'
import assert from 'node:assert/strict'
import { getEventListeners } from 'node:events'
import fc from 'fast-check'
import { StatusWaiters } from '../../src/http/status-waiters.js'

const timeouts = (): number => process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length

test('every wait ends, by the scan ending, its time, its signal or close, and leaves no waiter, timer or listener behind', async () => {
  await fc.assert(fc.asyncProperty(
    fc.array(fc.record({
      scan: fc.integer({ min: 0, max: 4 }),
      ms: fc.oneof(fc.constant(3_600_000), fc.constant(1e15), fc.integer({ min: -5, max: 30 }), fc.constant(Number.NaN)),
      leave: fc.boolean()
    }), { maxLength: 40 }),
    fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 6 }),
    fc.integer({ min: 0, max: 60 }),
    async (waits, endings, maxWaiters) => {
      const before = timeouts()
      const active = new Set([0, 1, 2, 3, 4].map(String))
      const waiters = new StatusWaiters({ active: async (id) => active.has(id), maxWaiters, pollIntervalMs: 10 })
      const signals: AbortController[] = []
      const outcomes = waits.map(async ({ scan, ms, leave }) => {
        const controller = new AbortController()
        if (leave) signals.push(controller)
        try {
          await waiters.wait(String(scan), ms, controller.signal)
          assert.equal(getEventListeners(controller.signal, 'abort').length, 0)
          return 'ended'
        } catch (error) {
          assert.equal((error as { code: string }).code, 'PARASCAN_TOO_MANY_WAITERS')
          return 'refused'
        }
      })
      assert.ok(waiters.size <= maxWaiters)
      for (const scan of endings) {
        active.delete(String(scan))
        waiters.changed(String(scan))
      }
      for (const controller of signals) controller.abort()
      await new Promise((resolve) => setTimeout(resolve, 40))
      waiters.close()
      const results = await Promise.all(outcomes)
      const registering = waits.filter(({ ms }) => ms > 0).length
      assert.equal(results.filter((r) => r === 'refused').length, maxWaiters === 0 ? 0 : Math.max(0, registering - maxWaiters))
      assert.equal(waiters.size, 0)
      assert.equal(timeouts(), before)
      await waiters.wait('0', 3_600_000, new AbortController().signal)
    }
  ), { numRuns: 60 })
})

test('a wait or a poll interval past the longest Node timer waits, instead of firing at once', async () => {
  let reads = 0
  const waiters = new StatusWaiters({ active: async () => { reads++; return true }, pollIntervalMs: 1e15 })
  const controller = new AbortController()
  let ended = false
  const wait = waiters.wait('s', 1e15, controller.signal).then(() => { ended = true })
  await new Promise((resolve) => setTimeout(resolve, 50))
  assert.equal(ended, false)
  assert.equal(reads, 1)
  controller.abort()
  await wait
  assert.equal(waiters.size, 0)
})

test('a wait on a scan that has already ended ends at once, without the scan being announced', async () => {
  const waiters = new StatusWaiters({ active: async () => false, pollIntervalMs: 3_600_000 })
  await waiters.wait('gone', 3_600_000, new AbortController().signal)
  assert.equal(waiters.size, 0)
})

test('a scan that ends where nobody says so is found by the periodic read; a store that fails keeps the waits', async () => {
  let state: 'running' | 'failing' | 'ended' = 'running'
  const waiters = new StatusWaiters({
    active: async () => {
      if (state === 'failing') throw new Error('store unavailable')
      return state === 'running'
    },
    pollIntervalMs: 10
  })
  let ended = false
  const wait = waiters.wait('s', 3_600_000, new AbortController().signal).then(() => { ended = true })
  state = 'failing'
  await new Promise((resolve) => setTimeout(resolve, 60))
  assert.equal(ended, false)
  assert.equal(waiters.size, 1)
  state = 'ended'
  await wait
  assert.equal(waiters.size, 0)
})
