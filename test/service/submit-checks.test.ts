import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { http } from '../helpers/service-harness.js'
import { finished, serverStarter, submit } from '../helpers/scan-client.js'
import { rawRequest } from '../helpers/raw-http.js'
import { nonFiniteNumberPath } from '../../src/http/non-finite-number.js'

const { start } = serverStarter()

async function post (base: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number, json: any }> {
  const response = await fetch(`${base}/v1/scans`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })
  return { status: response.status, json: await response.json() }
}

/** The value at a path that nonFiniteNumberPath wrote, read back by evaluating it as a JavaScript member chain. */
function at (root: unknown, path: string): unknown {
  return new Function('source', `return source.${path.slice('source.'.length)}`)({ records: root })
}

test('an inline number out of the range of a double is a 422 at submit that names its path; the largest finite ones are accepted', async () => {
  const server = await start()
  const cases: Array<[string, string]> = [
    ['[1, 1e400]', 'source.records[1]'],
    ['[{"a": [2, -1e400]}]', 'source.records[0].a[1]'],
    ['[{"odd key": {"0": 1e999}}]', 'source.records[0]["odd key"]["0"]'],
    ['[[0], {"b": [{"c": 2E+309}]}]', 'source.records[1].b[0].c']
  ]
  for (const [records, path] of cases) {
    const answer = await post(server.url, `{"source": {"type": "inline", "records": ${records}}}`)
    assert.equal(answer.status, 422, JSON.stringify(answer.json))
    assert.equal(answer.json.code, 'PARASCAN_NUMBER_OUT_OF_RANGE')
    assert.deepEqual(answer.json.errors.map((e: { path: string }) => e.path), [path])
    assert.match(answer.json.detail, new RegExp(path.replace(/[[\].]/g, '\\$&')))
  }
  const largest = await post(server.url, '{"source": {"type": "inline", "records": [1.7976931348623157e308, -1.7976931348623157e308, 1e-400]}, "aggregate": {"metrics": {"m": {"op": "max", "expr": "record"}}}}')
  assert.equal(largest.status, 202, JSON.stringify(largest.json))
  const doc = await finished(server.url, largest.json.id)
  assert.equal(doc.status, 'succeeded', JSON.stringify(doc.error))
})

test('nonFiniteNumberPath finds the one non-finite number planted anywhere in a JSON value, and nothing in a finite one', () => {
  const json = fc.jsonValue({ maxDepth: 4 })
  fc.assert(fc.property(fc.array(json, { maxLength: 5 }), fc.nat(), fc.constantFrom(Infinity, -Infinity, NaN), (generated, pick, bad) => {
    const records: unknown[] = generated
    assert.equal(nonFiniteNumberPath(records, 'source.records'), undefined)
    const slots: Array<(v: unknown) => void> = []
    const visit = (value: unknown, set: (v: unknown) => void): void => {
      slots.push(set)
      if (Array.isArray(value)) value.forEach((child, i) => visit(child, (v) => { value[i] = v }))
      else if (value !== null && typeof value === 'object') for (const key of Object.keys(value)) visit((value as Record<string, unknown>)[key], (v) => { Object.defineProperty(value, key, { value: v, enumerable: true, writable: true, configurable: true }) })
    }
    records.forEach((record, i) => visit(record, (v) => { records[i] = v }))
    if (slots.length === 0) return
    slots[pick % slots.length](bad)
    const path = nonFiniteNumberPath(records, 'source.records')
    assert.ok(path !== undefined)
    assert.ok(Object.is(at(records, path), bad), path)
  }))
})

test('a metric whose expression cannot give a number is refused at submit; a dyn one still runs', async () => {
  const server = await start()
  const answer = await http(server.url, 'POST', '/v1/scans', {
    source: { type: 'range', start: 0, end: 10 }, aggregate: { metrics: { s: { op: 'sum', expr: 'string(record)' }, n: { op: 'count' } } }
  })
  assert.equal(answer.status, 400)
  assert.equal(answer.json.code, 'PARASCAN_INVALID_SCAN')
  assert.deepEqual(answer.json.errors.map((e: { path: string }) => e.path), ['aggregate.metrics.s.expr'])
  const dyn = await finished(server.url, await submit(server.url, {
    source: { type: 'inline', records: [{ a: 2 }, { a: 3 }, 'x'] }, aggregate: { metrics: { s: { op: 'sum', expr: 'type(record) == map ? record.a : null' } } }
  }))
  assert.equal(dyn.status, 'succeeded', JSON.stringify(dyn.error))
  assert.equal((await http(server.url, 'GET', `/v1/scans/${dyn.id as string}/results`)).json.items[0].s, 5)
})

test('with on_error "skip", every error sample carries its catalogue code, in one job and in partitions', async () => {
  const server = await start({ PARASCAN_MAX_VALUE_BYTES: String(1024 * 1024) })
  for (const partitions of [1, 2]) {
    const doc = await finished(server.url, await submit(server.url, {
      source: { type: 'range', start: 0, end: 40 },
      // Record 5 divides by zero; records 30 and up grow past the value limit.
      pipeline: [{ map: 'record == 5 ? record / 0 : record >= 30 ? string(record) : ""' }, ...Array.from({ length: 21 }, () => ({ map: 'record + record' }))],
      on_error: 'skip',
      partitions
    }))
    assert.equal(doc.status, 'succeeded', JSON.stringify(doc.error))
    assert.ok(doc.errors.length >= 2, JSON.stringify(doc.errors))
    for (const sample of doc.errors) assert.equal(typeof sample.code, 'string', JSON.stringify(sample))
    const byOffset = new Map(doc.errors.map((e: { offset: number, code: string }) => [e.offset, e.code]))
    assert.equal(byOffset.get(5), 'PARASCAN_RECORD_FAILED', JSON.stringify(doc.errors))
    assert.ok([...byOffset.values()].includes('PARASCAN_VALUE_TOO_LARGE'), JSON.stringify(doc.errors))
    const listed = (await http(server.url, 'GET', '/v1/scans')).json.items.find((item: { id: string }) => item.id === doc.id)
    assert.deepEqual(listed.errors, doc.errors)
  }
})

test('the Idempotency-Key header sent twice is a 400 problem, not one key joined from both', async () => {
  const server = await start()
  const { host } = new URL(server.url)
  const body = JSON.stringify({ source: { type: 'range', start: 0, end: 10 } })
  const request = (keys: string[]): string => `POST /v1/scans HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
    keys.map((key, i) => `${i % 2 === 0 ? 'Idempotency-Key' : 'idempotency-key'}: ${key}\r\n`).join('') + `Connection: close\r\n\r\n${body}`
  for (const keys of [['a', 'b'], ['same', 'same'], ['x', 'y', 'z']]) {
    const answer = await rawRequest(server.url, request(keys))
    assert.equal(answer?.status, 400, answer?.body)
    assert.match(answer.headers['content-type'], /^application\/problem\+json/)
    const problem = JSON.parse(answer.body)
    assert.equal(problem.code, 'PARASCAN_INVALID_REQUEST')
    assert.deepEqual(problem.errors, [{ path: 'idempotency-key', message: `sent ${keys.length} times; send it once` }])
  }
  const once = await rawRequest(server.url, request(['a, b']))
  assert.equal(once?.status, 202, once?.body)
  const again = await rawRequest(server.url, request(['a, b']))
  assert.equal(JSON.parse(again!.body).id, JSON.parse(once.body).id, 'one header whose value holds a comma is one key')
})
