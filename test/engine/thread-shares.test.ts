import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { shareThreads, type ShareClaim } from '../../src/parallel/thread-shares.js'

const claims = fc.array(fc.record({ group: fc.integer({ min: 0, max: 5 }), want: fc.integer({ min: 1, max: 12 }), running: fc.boolean() }), { maxLength: 14 })
const threads = fc.integer({ min: 1, max: 16 })

/** Threads each group holds, and what each group can neither give nor take. */
function byGroup (list: readonly ShareClaim[], shares: number[]): Map<unknown, { held: number, floor: number, cap: number }> {
  const groups = new Map<unknown, { held: number, floor: number, cap: number }>()
  list.forEach((claim, i) => {
    const group = groups.get(claim.group) ?? { held: 0, floor: 0, cap: 0 }
    group.held += shares[i]
    group.floor += Math.min(1, shares[i])
    group.cap += claim.want
    groups.set(claim.group, group)
  })
  return groups
}

test('shares: never more than a scan wants, the pool is used up to what the scans want, and a running scan keeps a thread', () => {
  fc.assert(fc.property(threads, claims, (size, list) => {
    const running = list.filter((claim) => claim.running).length
    fc.pre(running <= size)
    const shares = shareThreads(size, list)
    const wanted = list.reduce((sum, claim) => sum + claim.want, 0)
    assert.equal(shares.reduce((a, b) => a + b, 0), Math.min(size, wanted))
    list.forEach((claim, i) => {
      assert.ok(shares[i] <= claim.want)
      if (claim.running) assert.ok(shares[i] >= 1)
    })
    if (list.length <= size) assert.ok(shares.every((share) => share >= 1), 'each scan gets a thread when there are enough')
  }), { numRuns: 2000 })
})

test('shares: groups differ by at most one thread unless the bigger holds only the one thread each of its scans keeps, or the smaller wants no more', () => {
  fc.assert(fc.property(threads, claims, (size, list) => {
    fc.pre(list.filter((claim) => claim.running).length <= size)
    const groups = [...byGroup(list, shareThreads(size, list)).values()]
    for (const big of groups) {
      for (const small of groups) {
        if (big.held <= small.held + 1) continue
        assert.ok(big.held === big.floor || small.held === small.cap, `${JSON.stringify(big)} against ${JSON.stringify(small)}`)
      }
    }
  }), { numRuns: 2000 })
})

test('shares: inside a group, its scans differ by at most one thread unless the bigger holds one or the smaller wants no more', () => {
  fc.assert(fc.property(threads, claims, (size, list) => {
    fc.pre(list.filter((claim) => claim.running).length <= size)
    const shares = shareThreads(size, list)
    list.forEach((a, i) => list.forEach((b, j) => {
      if (a.group !== b.group || shares[i] <= shares[j] + 1) return
      assert.ok(shares[i] === 1 || shares[j] === b.want, `${shares[i]} and ${shares[j]} in group ${String(a.group)}`)
    }))
  }), { numRuns: 2000 })
})

test('shares: scans that want the whole pool, no more scans than threads: every group gets an equal part (within one), the sum is the pool', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 64 }), fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 8 }), (size, perGroup) => {
    const list: ShareClaim[] = perGroup.flatMap((scans, group) => Array.from({ length: scans }, () => ({ group, want: size, running: true })))
    fc.pre(list.length <= size && perGroup.every((scans) => scans <= Math.floor(size / perGroup.length)))
    const shares = shareThreads(size, list)
    assert.equal(shares.reduce((a, b) => a + b, 0), size)
    const held = [...byGroup(list, shares).values()].map((group) => group.held)
    assert.ok(Math.max(...held) - Math.min(...held) <= 1, `groups hold ${held.join(', ')}`)
    assert.ok(shares.every((share) => share >= 1))
  }), { numRuns: 2000 })
})

test('shares: a tenant with two scans and one with one on four threads: two and two, the first split one and one', () => {
  assert.deepEqual(shareThreads(4, [
    { group: 'a', want: 4, running: true },
    { group: 'a', want: 4, running: true },
    { group: 'b', want: 4, running: false }
  ]), [1, 1, 2])
  assert.deepEqual(shareThreads(8, [{ group: 'a', want: 8, running: true }]), [8])
  assert.deepEqual(shareThreads(2, [
    { group: 'a', want: 2, running: true },
    { group: 'a', want: 2, running: true },
    { group: 'b', want: 2, running: false }
  ]), [1, 1, 0], 'a running scan keeps its last thread; the newcomer waits')
})
