import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { BoundedCache } from '../../src/pipeline/bounded-cache.js'

describe('BoundedCache', () => {
  it('makes a value once per key and hands the same one back', () => {
    const cache = new BoundedCache<object>(4, 100)
    let made = 0
    const make = (): object => ({ n: ++made })
    const first = cache.getOrMake('a', make)
    assert.equal(cache.getOrMake('a', make), first)
    assert.notEqual(cache.getOrMake('b', make), first)
    assert.equal(made, 2)
  })

  it('drops the oldest key past maxEntries', () => {
    const cache = new BoundedCache<string>(2, 100)
    let made = 0
    const make = (key: string) => () => `${key}${++made}`
    cache.getOrMake('a', make('a'))
    cache.getOrMake('b', make('b'))
    cache.getOrMake('c', make('c'))
    assert.equal(cache.getOrMake('b', make('b')), 'b2')
    assert.equal(cache.getOrMake('c', make('c')), 'c3')
    assert.equal(cache.getOrMake('a', make('a')), 'a4')
  })

  it('keeps no key longer than maxKeyLength and no value whose making threw', () => {
    const cache = new BoundedCache<object>(4, 3)
    assert.notEqual(cache.getOrMake('long', () => ({})), cache.getOrMake('long', () => ({})))
    assert.throws(() => cache.getOrMake('bad', () => { throw new Error('no') }), /no/)
    assert.deepEqual(cache.getOrMake('bad', () => ({ ok: true })), { ok: true })
  })
})
