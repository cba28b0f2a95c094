import { test } from 'node:test'
import assert from 'node:assert/strict'
import { dropPrefix, http, REDIS_URL, uniquePrefix } from '../helpers/service-harness.js'
import { finished, serverStarter, submit } from '../helpers/scan-client.js'

const { start, onClose } = serverStarter()

const keyA = 'tenant-a-key-0123456789'
const keyB = 'tenant-b-key-0123456789'
const keyC = 'tenant-c-key-0123456789'
const a = { authorization: `Bearer ${keyA}` }
const b = { authorization: `Bearer ${keyB}` }
const c = { authorization: `Bearer ${keyC}` }
const keys = `a:${keyA},b:${keyB},c:${keyC}`
/** 10,000 results of about 60 bytes each: 600 kB. */
const big = { source: { type: 'range', start: 0, end: 10_000 }, pipeline: [{ map: 'string(record) + "-' + 'x'.repeat(50) + '"' }] }
/** One result, stored as the page `["abc"]`: 7 bytes. */
const tiny = { source: { type: 'inline', records: ['abc'] } }

async function modeEnv (mode: string, env: Record<string, string>): Promise<Record<string, string>> {
  if (mode === 'embedded') return env
  const prefix = uniquePrefix()
  onClose(async () => await dropPrefix(prefix))
  return { REDIS_URL, PARASCAN_KEY_PREFIX: prefix, ...env }
}

/** Bytes the stored results take as pages: every item's JSON, a comma or bracket each, and one more bracket. */
async function storedBytes (base: string, id: string, headers: Record<string, string>): Promise<{ count: number, bytes: number }> {
  const response = await fetch(`${base}/v1/scans/${id}/results`, { headers: { ...headers, accept: 'application/x-ndjson' } })
  assert.equal(response.status, 200)
  const lines = (await response.text()).split('\n').filter((line) => line !== '')
  return { count: lines.length, bytes: lines.reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 1) }
}

for (const mode of ['embedded', 'redis']) {
  test(`${mode}: a scan that would pass its tenant's storage quota fails with PARASCAN_STORAGE_QUOTA_EXCEEDED and stores no more than the quota, whole or in partitions; other tenants go on`, async () => {
    const quota = 50_000
    const server = await start(await modeEnv(mode, { PARASCAN_API_KEYS: keys, PARASCAN_TENANT_STORAGE_BYTES_PER_TENANT: `a:${quota}` }))
    const whole = await finished(server.url, await submit(server.url, big, a), a)
    assert.equal(whole.status, 'failed', JSON.stringify(whole))
    assert.equal(whole.error.code, 'PARASCAN_STORAGE_QUOTA_EXCEEDED')
    assert.match(whole.error.message, /PARASCAN_TENANT_STORAGE_BYTES/)
    const stored = await storedBytes(server.url, whole.id, a)
    assert.ok(stored.bytes <= quota, `${stored.bytes} bytes stored`)

    const usedBefore = stored.bytes
    const parted = await finished(server.url, await submit(server.url, { ...big, partitions: 4 }, a), a)
    assert.equal(parted.status, 'failed', JSON.stringify(parted))
    assert.equal(parted.error.code, 'PARASCAN_STORAGE_QUOTA_EXCEEDED')
    assert.ok(usedBefore + (await storedBytes(server.url, parted.id, a)).bytes <= quota)

    const other = await finished(server.url, await submit(server.url, big, b), b)
    assert.equal(other.status, 'succeeded', 'tenant b has the default quota of 1 GiB')
    assert.equal(other.result.count, 10_000)
  })

  test(`${mode}: a tenant at exactly its quota gets 429 PARASCAN_STORAGE_QUOTA_EXCEEDED for new scans until it deletes one; many tiny scans fill it the same way`, async () => {
    const server = await start(await modeEnv(mode, { PARASCAN_API_KEYS: keys, PARASCAN_TENANT_STORAGE_BYTES_PER_TENANT: 'c:21,a:0', PARASCAN_TENANT_STORAGE_BYTES: '98' }))
    const ids: string[] = []
    for (let i = 0; i < 3; i++) {
      const doc = await finished(server.url, await submit(server.url, tiny, c), c)
      assert.equal(doc.status, 'succeeded')
      ids.push(doc.id)
    }
    const refused = await http(server.url, 'POST', '/v1/scans', tiny, c)
    assert.equal(refused.status, 429)
    assert.equal(refused.json.code, 'PARASCAN_STORAGE_QUOTA_EXCEEDED')
    assert.match(refused.headers.get('content-type') ?? '', /application\/problem\+json/)
    assert.match(refused.json.detail, /21 bytes of results are stored, the quota is 21/)
    assert.ok(Number(refused.headers.get('retry-after')) > 3600, 'space frees when the first scan expires, 24 h on')
    assert.equal((await http(server.url, 'DELETE', `/v1/scans/${ids[0]}`, undefined, c)).status, 204)
    assert.equal((await finished(server.url, await submit(server.url, tiny, c), c)).status, 'succeeded')

    // Tenant b has the default of 98 bytes: fourteen tiny scans fill it exactly.
    let accepted = 0
    for (let i = 0; i < 50; i++) {
      const response = await http(server.url, 'POST', '/v1/scans', tiny, b)
      if (response.status === 429) {
        assert.equal(response.json.code, 'PARASCAN_STORAGE_QUOTA_EXCEEDED')
        break
      }
      assert.equal(response.status, 202)
      accepted++
      await finished(server.url, response.json.id, b)
    }
    assert.equal(accepted, 14, 'a scan is refused once 98 bytes are stored, not before')
    const free = await finished(server.url, await submit(server.url, big, a), a)
    assert.equal(free.status, 'succeeded', 'a:0 is no quota')
    assert.equal(free.result.count, 10_000)
  })

  test(`${mode}: a tenant's quota is free again once its scans' retention is over`, async () => {
    const server = await start(await modeEnv(mode, { PARASCAN_API_KEYS: keys, PARASCAN_TENANT_STORAGE_BYTES_PER_TENANT: 'c:7', PARASCAN_RETENTION: '2s' }))
    assert.equal((await finished(server.url, await submit(server.url, tiny, c), c)).status, 'succeeded')
    const refused = await http(server.url, 'POST', '/v1/scans', tiny, c)
    assert.equal(refused.status, 429)
    assert.ok(Number(refused.headers.get('retry-after')) <= 2)
    await new Promise((resolve) => setTimeout(resolve, 2500))
    assert.equal((await finished(server.url, await submit(server.url, tiny, c), c)).status, 'succeeded')
  })
}

test('redis: two instances writing one tenant\'s scans at once never store more than its quota together', async () => {
  const prefix = uniquePrefix()
  onClose(async () => await dropPrefix(prefix))
  const quota = 100_000
  const env = { REDIS_URL, PARASCAN_KEY_PREFIX: prefix, PARASCAN_API_KEYS: keys, PARASCAN_TENANT_STORAGE_BYTES_PER_TENANT: `c:${quota}`, PARASCAN_MAX_RUNNING_SCANS_PER_TENANT: '0' }
  const one = await start(env)
  const two = await start(env)
  // Four scans of about 70 kB each, two on each instance at once.
  const body = { source: { type: 'range', start: 0, end: 1000 }, pipeline: [{ map: 'string(record) + "-' + 'x'.repeat(60) + '"' }] }
  const ids = await Promise.all([one, two, one, two].map(async (server) => await submit(server.url, body, c)))
  const docs = await Promise.all(ids.map(async (id) => await finished(one.url, id, c, 120_000)))
  const failed = docs.filter((doc) => doc.status === 'failed')
  assert.ok(failed.length >= 3, JSON.stringify(docs.map((doc) => doc.status)))
  for (const doc of failed) assert.equal(doc.error.code, 'PARASCAN_STORAGE_QUOTA_EXCEEDED')
  let total = 0
  for (const id of ids) total += (await storedBytes(two.url, id, c)).bytes
  assert.ok(total <= quota, `${total} bytes stored over both instances`)
  assert.ok(total > quota / 2, `${total} bytes stored: the quota was used`)
})
