import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Redis } from 'ioredis'
import { dropPrefix, http, REDIS_URL, uniquePrefix } from '../helpers/service-harness.js'
import { serverStarter, finished, submit } from '../helpers/scan-client.js'

const { start, onClose } = serverStarter()

const doublings = (n: number, expr = 'record + record'): Array<{ map: string }> => Array.from({ length: n }, () => ({ map: expr }))

test('values that grow without bound fail their record with PARASCAN_VALUE_TOO_LARGE; the instance answers /healthz throughout and runs the next scan', async () => {
  const server = await start({ PARASCAN_MAX_VALUE_BYTES: String(1024 * 1024) })
  let healthy = 0
  let unhealthy = 0
  const probe = setInterval(() => {
    http(server.url, 'GET', '/healthz').then((r) => { if (r.status === 200) healthy++; else unhealthy++ }, () => { unhealthy++ })
  }, 100)
  try {
    // The 930-byte request: a list doubled 31 times.
    const list = { source: { type: 'inline', records: [[0]] }, pipeline: doublings(31) }
    assert.ok(JSON.stringify(list).length < 1000)
    const attacks: Array<[unknown, RegExp]> = [
      [list, /pipeline\[\d+\]\.map: the value is over 1048576 bytes \(PARASCAN_MAX_VALUE_BYTES\)/],
      [{ source: { type: 'range', start: 0, end: 16 }, pipeline: [{ map: 'string(record)' }, ...doublings(30)] }, /the value is over/],
      [{ source: { type: 'inline', records: [{ a: 1 }] }, pipeline: doublings(30, '{"l": record, "r": record}') }, /the value is over/],
      [{ source: { type: 'inline', records: [[1, 2]] }, pipeline: doublings(30, 'record.map(x, record)') }, /the value is over/],
      [{ source: { type: 'inline', records: ['€'] }, pipeline: doublings(24) }, /the value is over/]
    ]
    for (const [body, message] of attacks) {
      const doc = await finished(server.url, await submit(server.url, body))
      assert.equal(doc.status, 'failed', JSON.stringify(doc))
      assert.equal(doc.error.code, 'PARASCAN_VALUE_TOO_LARGE')
      assert.match(doc.error.message, message)
      assert.equal(typeof doc.error.offset, 'number')
    }
    const skip = await finished(server.url, await submit(server.url, {
      source: { type: 'range', start: 0, end: 8 }, pipeline: [{ map: 'record < 4 ? string(record) : ""' }, ...doublings(21)], on_error: 'skip'
    }))
    assert.equal(skip.status, 'succeeded')
    assert.equal(skip.progress.skipped, 4, 'on_error skip: the four records that grew are skipped, the others kept')
    assert.match(skip.errors[0].message, /PARASCAN_MAX_VALUE_BYTES/)
    const next = await finished(server.url, await submit(server.url, { source: { type: 'range', start: 0, end: 1000 } }))
    assert.equal(next.status, 'succeeded')
    assert.equal(next.result.count, 1000)
  } finally {
    clearInterval(probe)
  }
  assert.equal(unhealthy, 0)
  assert.ok(healthy > 0)
  assert.ok(process.memoryUsage().rss < 1024 ** 3, `rss ${process.memoryUsage().rss}`)
})

test('a result is measured in UTF-8 bytes against PARASCAN_MAX_RESULT_BYTES; aggregates are bounded by PARASCAN_MAX_GROUPS and the group size', async () => {
  const server = await start({ PARASCAN_MAX_RESULT_BYTES: '100000', PARASCAN_MAX_GROUPS: '50' })
  // 2^16 = 65536 characters of three bytes each: under the limit in characters, over it in bytes.
  const euro = await finished(server.url, await submit(server.url, { source: { type: 'inline', records: ['€'] }, pipeline: doublings(16) }))
  assert.equal(euro.error?.code, 'PARASCAN_VALUE_TOO_LARGE', JSON.stringify(euro))
  assert.match(euro.error.message, /result: the result is over 100000 bytes \(PARASCAN_MAX_RESULT_BYTES\)/)
  const ascii = await finished(server.url, await submit(server.url, { source: { type: 'inline', records: ['a'] }, pipeline: doublings(16) }))
  assert.equal(ascii.status, 'succeeded', 'the same length in ASCII fits')
  const groups = await finished(server.url, await submit(server.url, { source: { type: 'range', start: 0, end: 10_000 }, aggregate: { group_by: 'record', metrics: { n: { op: 'count' } } } }))
  assert.equal(groups.status, 'failed')
  assert.equal(groups.error.code, 'PARASCAN_TOO_MANY_GROUPS')
  const fifty = await finished(server.url, await submit(server.url, { source: { type: 'range', start: 0, end: 10_000 }, aggregate: { group_by: 'record % 50', metrics: { n: { op: 'count' } } } }))
  assert.equal(fifty.status, 'succeeded')
  assert.equal(fifty.result.count, 50)
})

test('a scan whose stored results pass PARASCAN_MAX_SCAN_RESULT_BYTES fails with PARASCAN_RESULTS_TOO_LARGE and Redis holds no more than that (Redis)', async () => {
  const prefix = uniquePrefix()
  onClose(async () => await dropPrefix(prefix))
  const limit = 256 * 1024
  const server = await start({ REDIS_URL, PARASCAN_KEY_PREFIX: prefix, PARASCAN_MAX_SCAN_RESULT_BYTES: String(limit) })
  // 4,000 results of about 1 KiB: 4 MiB if nothing stopped it.
  const id = await submit(server.url, { source: { type: 'range', start: 0, end: 4000 }, pipeline: [{ map: 'string(record) + "-"' }, ...doublings(8)] })
  const doc = await finished(server.url, id)
  assert.equal(doc.status, 'failed')
  assert.equal(doc.error.code, 'PARASCAN_RESULTS_TOO_LARGE')
  assert.match(doc.error.message, /PARASCAN_MAX_SCAN_RESULT_BYTES/)
  const redis = new Redis(REDIS_URL)
  try {
    const keys = await redis.keys(`${prefix}:scan:{${id}}:pages:*`)
    let bytes = 0
    for (const key of keys) for (const page of await redis.lrange(key, 0, -1)) bytes += Buffer.byteLength(page)
    assert.ok(bytes <= limit, `${bytes} bytes stored`)
  } finally {
    redis.disconnect()
  }
  const small = await finished(server.url, await submit(server.url, { source: { type: 'range', start: 0, end: 100 }, pipeline: [{ map: 'string(record)' }] }))
  assert.equal(small.status, 'succeeded')
})

/** Every result's `n`, following the cursors with the largest limit; each page at most `maxBytes` (and a little for the last item). */
async function readPagesOfBytes (base: string, id: string, maxBytes: number): Promise<{ seen: number[], pages: number }> {
  const seen: number[] = []
  let cursor: string | undefined
  let pages = 0
  for (;;) {
    const page = await http(base, 'GET', `/v1/scans/${id}/results?limit=10000${cursor === undefined ? '' : `&cursor=${cursor}`}`)
    assert.equal(page.status, 200)
    pages++
    const bytes = Buffer.byteLength(JSON.stringify(page.json.items))
    assert.ok(bytes <= maxBytes + 200, `page of ${bytes} bytes`)
    assert.ok(page.json.items.length > 0 || page.json.complete === true)
    seen.push(...page.json.items.map((item: { n: number }) => item.n))
    if (page.json.complete === true) return { seen, pages }
    cursor = page.json.next_cursor
  }
}

test('a results page stops at PARASCAN_MAX_PAGE_BYTES; following the cursors reads every result once', async () => {
  const server = await start({ PARASCAN_MAX_PAGE_BYTES: '2048' })
  const id = await submit(server.url, { source: { type: 'range', start: 0, end: 300 }, ordered: true, pipeline: [{ map: '{"n": record, "pad": "' + 'x'.repeat(80) + '"}' }] })
  assert.equal((await finished(server.url, id)).status, 'succeeded')
  const { seen, pages } = await readPagesOfBytes(server.url, id, 2048)
  assert.ok(pages > 10)
  assert.deepEqual(seen, Array.from({ length: 300 }, (_, i) => i))
  const big = await submit(server.url, { source: { type: 'inline', records: ['y'.repeat(5000)] } })
  await finished(server.url, big)
  const one = await http(server.url, 'GET', `/v1/scans/${big}/results`)
  assert.equal(one.json.items.length, 1, 'a page holds at least one item, however large')
})

test('matches runs in linear time (RE2): a pattern that backtracks in JavaScript finishes at once; a pattern that is not RE2 is a 400', async () => {
  const server = await start({ PARASCAN_SCAN_TIMEOUT: '20s' })
  const records = [...Array.from({ length: 200 }, (_, i) => `${'a'.repeat(30 + (i % 20))}!`), 'aaaa', 'b']
  const began = Date.now()
  const doc = await finished(server.url, await submit(server.url, { source: { type: 'inline', records }, ordered: true, pipeline: [{ filter: 'record.matches("^(a+)+$")' }] }))
  assert.equal(doc.status, 'succeeded')
  assert.ok(Date.now() - began < 10_000, `${Date.now() - began} ms`)
  const results = await http(server.url, 'GET', `/v1/scans/${doc.id}/results`)
  assert.deepEqual(results.json.items, ['aaaa'])
  const partial = await finished(server.url, await submit(server.url, { source: { type: 'inline', records: ['xaby', 'xy'] }, pipeline: [{ filter: 'record.matches("ab")' }] }))
  assert.equal(partial.result.count, 1, 'matches finds the pattern anywhere, as RE2 PartialMatch does')
  const lookahead = await http(server.url, 'POST', '/v1/scans', { source: { type: 'inline', records: ['a'] }, pipeline: [{ filter: 'record.matches("a(?=b)")' }] })
  assert.equal(lookahead.status, 400)
  assert.equal(lookahead.json.errors[0].path, 'pipeline[0].filter')
  assert.match(lookahead.json.errors[0].message, /RE2 syntax/)
  const dynamic = await finished(server.url, await submit(server.url, { source: { type: 'inline', records: [{ s: 'a', p: '(' }] }, pipeline: [{ filter: 'record.s.matches(record.p)' }] }))
  assert.equal(dynamic.status, 'failed')
  assert.match(dynamic.error.message, /invalid regular expression/)
})

test('a cursor past the end of the results is a 400 PARASCAN_INVALID_CURSOR', async () => {
  const server = await start()
  const id = await submit(server.url, { source: { type: 'range', start: 0, end: 10 } })
  await finished(server.url, id)
  const first = await http(server.url, 'GET', `/v1/scans/${id}/results?limit=3`)
  const [attempt, page, offset] = JSON.parse(Buffer.from(first.json.next_cursor, 'base64url').toString()) as [string, number, number]
  const forge = (p: number, o: number): string => Buffer.from(JSON.stringify([attempt, p, o])).toString('base64url')
  assert.equal((await http(server.url, 'GET', `/v1/scans/${id}/results?cursor=${forge(page, offset)}`)).status, 200)
  for (const [p, o] of [[page + 100, 0], [page + 1, 50], [page, offset + 1000]]) {
    const answer = await http(server.url, 'GET', `/v1/scans/${id}/results?cursor=${forge(p, o)}`)
    assert.equal(answer.status, 400, `page ${p} offset ${o}: ${JSON.stringify(answer.json)}`)
    assert.equal(answer.json.code, 'PARASCAN_INVALID_CURSOR')
  }
})

for (const mode of ['embedded', 'redis'] as const) {
  test(`deleting a scan forgets its Idempotency-Key: the same key and body then make a new scan (${mode})`, async () => {
    const env: Record<string, string> = {}
    if (mode === 'redis') {
      env.REDIS_URL = REDIS_URL
      env.PARASCAN_KEY_PREFIX = uniquePrefix()
      onClose(async () => await dropPrefix(env.PARASCAN_KEY_PREFIX))
    }
    const server = await start(env)
    const body = { source: { type: 'range', start: 0, end: 5 } }
    const headers = { 'idempotency-key': 'k-1' }
    const first = await submit(server.url, body, headers)
    await finished(server.url, first)
    assert.equal((await http(server.url, 'POST', '/v1/scans', body, headers)).json.id, first, 'before the delete the key answers with the first scan')
    assert.equal((await http(server.url, 'DELETE', `/v1/scans/${first}`)).status, 204)
    const again = await http(server.url, 'POST', '/v1/scans', body, headers)
    assert.equal(again.status, 202)
    assert.notEqual(again.json.id, first)
    assert.equal((await finished(server.url, again.json.id)).status, 'succeeded')
    assert.equal((await http(server.url, 'GET', `/v1/scans/${first}`)).status, 404, 'the deleted scan stays deleted')
  })
}

for (const mode of ['embedded', 'redis'] as const) {
  test(`a results page of a partitioned scan stops at PARASCAN_MAX_PAGE_BYTES too; the cursors read every result once, and a cursor past the end is a 400 (${mode})`, async () => {
    const env: Record<string, string> = { PARASCAN_MAX_PAGE_BYTES: '2048', PARASCAN_PARTITION_RECORDS: '50' }
    if (mode === 'redis') {
      env.REDIS_URL = REDIS_URL
      env.PARASCAN_KEY_PREFIX = uniquePrefix()
      onClose(async () => await dropPrefix(env.PARASCAN_KEY_PREFIX))
    }
    const server = await start(env)
    const pipeline = [{ filter: 'record % 7 != 3' }, { map: '{"n": record, "pad": "' + 'x'.repeat(80) + '"}' }]
    const expected = Array.from({ length: 400 }, (_, i) => i).filter((i) => i % 7 !== 3)
    for (const ordered of [true, false]) {
      const id = await submit(server.url, { source: { type: 'range', start: 0, end: 400 }, ordered, pipeline })
      const status = await finished(server.url, id)
      assert.equal(status.status, 'succeeded')
      assert.ok(status.partitions !== undefined, 'the scan is partitioned')
      const { seen, pages } = await readPagesOfBytes(server.url, id, 2048)
      assert.ok(pages > 10, `${pages} pages`)
      assert.deepEqual(ordered ? seen : [...seen].sort((a, b) => a - b), expected)
      const forged = Buffer.from(JSON.stringify(['p', 1000, 0, 0, 0])).toString('base64url')
      const past = await http(server.url, 'GET', `/v1/scans/${id}/results?cursor=${forged}`)
      assert.equal(past.status, 400, JSON.stringify(past.json))
      assert.equal(past.json.code, 'PARASCAN_INVALID_CURSOR')
    }
  })
}
