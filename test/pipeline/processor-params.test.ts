import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { finished, serverStarter } from '../helpers/scan-client.js'
import { REDIS_URL, uniquePrefix } from '../helpers/service-harness.js'

const PROCESSORS_DIR = fileURLToPath(new URL('../fixtures/processors/', import.meta.url))
const { start } = serverStarter()

const key = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', '', '0', '-1'),
  fc.string({ maxLength: 12 })
)

/** Params as JSON text, built by hand so that a `__proto__` key stays a key, at the top and inside values. */
const paramsText: fc.Arbitrary<string> = fc.letrec<{ object: string, value: string }>((tie) => ({
  object: fc.uniqueArray(fc.tuple(key, tie('value')), { maxLength: 6, selector: ([name]) => name })
    .map((entries) => `{${entries.map(([name, value]) => `${JSON.stringify(name)}:${value}`).join(',')}}`),
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, fc.jsonValue({ maxDepth: 1 }).map((value) => JSON.stringify(value)), tie('object'))
})).object

for (const mode of ['embedded', 'Redis'] as const) {
  test(`processor params keep every key as data, __proto__ and constructor included, from the HTTP body to a plug-in and back (${mode})`, async () => {
    const server = await start({ PROCESSORS_DIR, ...(mode === 'Redis' ? { REDIS_URL, PARASCAN_KEY_PREFIX: uniquePrefix() } : {}) })
    await fc.assert(fc.asyncProperty(paramsText, async (params) => {
      const body = `{"source":{"type":"range","start":0,"end":1},"pipeline":[{"processor":"echo-params","params":${params}}]}`
      const accepted = await fetch(`${server.url}/v1/scans`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
      assert.equal(accepted.status, 202, await accepted.clone().text())
      const { id } = await accepted.json() as { id: string }
      const doc = await finished(server.url, id)
      assert.equal(doc.status, 'succeeded', JSON.stringify(doc.error))
      const page = await (await fetch(`${server.url}/v1/scans/${id}/results`)).json() as { items: unknown[] }
      assert.deepStrictEqual(page.items, [JSON.parse(params)])
      const lines = await (await fetch(`${server.url}/v1/scans/${id}/results`, { headers: { accept: 'application/x-ndjson' } })).text()
      assert.deepStrictEqual(JSON.parse(lines), JSON.parse(params))
    }), { numRuns: 25 })
    assert.equal(({} as Record<string, unknown>).polluted, undefined)
  })
}

test('params that are not an object are a 400 naming the field', async () => {
  const server = await start({ PROCESSORS_DIR })
  for (const params of ['[]', '1', '"x"', 'null']) {
    const response = await fetch(`${server.url}/v1/scans`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"source":{"type":"range","start":0,"end":1},"pipeline":[{"processor":"echo-params","params":${params}}]}`
    })
    assert.equal(response.status, 400, params)
    const problem = await response.json() as { code: string, errors: Array<{ path: string }> }
    assert.equal(problem.code, 'PARASCAN_INVALID_REQUEST')
    assert.ok(problem.errors.some((error) => error.path === 'pipeline[0].params'), JSON.stringify(problem.errors))
  }
})
