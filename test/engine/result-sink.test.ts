import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { concatBlocks, ResultSink } from '../../src/parallel/result-sink.js'

/** Page sizes around where parsed pages stop being copied into shared blocks and where a shared block is full. */
const pageSize = fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 4_000, max: 4_200 }), fc.integer({ min: 60_000, max: 70_000 }))

test('unordered pages of any size come out as their values in the order handed over, each page released once with its length', async () => {
  await fc.assert(fc.asyncProperty(fc.array(pageSize, { maxLength: 40 }), async (sizes) => {
    const released: number[] = []
    const sink = new ResultSink({ releaseBytes: (bytes) => released.push(bytes), onError: (error) => { throw error } })
    const expected: number[] = []
    const lengths: number[] = []
    let next = 0
    for (const size of sizes) {
      const values = Array.from({ length: size }, () => next++)
      const json = JSON.stringify(values)
      sink.addPage(json, size)
      if (size > 0) {
        expected.push(...values)
        lengths.push(json.length)
      }
    }
    await sink.drained()
    assert.deepEqual(sink.results, expected)
    assert.deepEqual(released, lengths)
  }), { numRuns: 40 })
})

test('ordered ranges arriving in any order come out in source order; releases move the front up to the end, in order, with every byte', async () => {
  const ranges = fc.array(fc.record({ records: fc.integer({ min: 1, max: 5 }), items: pageSize }), { minLength: 1, maxLength: 30 })
  await fc.assert(fc.asyncProperty(ranges, fc.infiniteStream(fc.nat()), async (spec, picks) => {
    const fronts: number[] = []
    let releasedBytes = 0
    const sink = new ResultSink({ ordered: true, release: (front, bytes) => { fronts.push(front); releasedBytes += bytes }, onError: (error) => { throw error } })
    const expected: number[] = []
    const messages: Array<{ triple: number[], json: string }> = []
    let offset = 0
    let bytes = 0
    for (const { records, items } of spec) {
      const values = Array.from({ length: items }, (_, i) => offset * 100_000 + i)
      expected.push(...values)
      const json = JSON.stringify(values)
      bytes += json.length
      messages.push({ triple: [offset, offset + records, items], json })
      offset += records
    }
    // Ranges come in an order of their own, one or two to a message.
    const pick = picks[Symbol.iterator]()
    while (messages.length > 0) {
      const taken = messages.splice(pick.next().value % messages.length, 1)
      if (messages.length > 0 && pick.next().value % 2 === 0) taken.push(...messages.splice(0, 1))
      sink.addRanges(taken.flatMap(m => m.triple), taken.map(m => m.json))
      if (pick.next().value % 3 === 0) await new Promise(resolve => setImmediate(resolve))
    }
    await sink.drained()
    assert.deepEqual(sink.results, expected)
    assert.equal(fronts.at(-1), offset)
    for (let i = 1; i < fronts.length; i++) assert.ok(fronts[i] > fronts[i - 1], `front ${fronts[i]} released after ${fronts[i - 1]}`)
    assert.equal(releasedBytes, bytes)
  }), { numRuns: 40 })
})

test('more blocks than one concat call takes come out whole and in order', () => {
  for (const count of [0, 1, 2, 4_095, 4_096, 4_097, 20_000]) {
    const blocks = Array.from({ length: count }, (_, b) => b % 3 === 0 ? [] : [b, `${b}`])
    assert.deepEqual(concatBlocks(blocks), blocks.flat())
  }
})

test('a page that cannot be parsed fails the scan through onError; the sink still drains and drops what follows', async () => {
  const errors: unknown[] = []
  const sink = new ResultSink({ onError: (error) => errors.push(error) })
  sink.addPage('[1,2]', 2)
  sink.addPage('[3,', 1)
  sink.addPage('[4]', 1)
  await sink.drained()
  assert.equal(errors.length, 1)
  assert.ok(errors[0] instanceof SyntaxError)
  sink.addPage('[5]', 1)
  await sink.drained()
  assert.equal(errors.length, 1)
})

test('discarded results: the pages waiting are dropped unreleased, the sink drains at once, and the values parsed are let go', async () => {
  let released = 0
  const sink = new ResultSink({ releaseBytes: () => { released++ }, onError: (error) => { throw error } })
  const page = JSON.stringify(Array.from({ length: 50_000 }, (_, i) => i))
  for (let p = 0; p < 200; p++) sink.addPage(page, 50_000)
  // A few slices in, the scan is aborted.
  await new Promise(resolve => setImmediate(resolve))
  await new Promise(resolve => setImmediate(resolve))
  sink.discardResults()
  await sink.drained()
  assert.ok(released < 200)
  const after = released
  sink.addPage(page, 50_000)
  await sink.drained()
  assert.equal(released, after)
  assert.deepEqual(sink.results, [])
})
