import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Redis } from 'ioredis'
import { startServer, type RunningServer } from '../../src/server.js'

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

async function withServer (env: Record<string, string>, fn: (server: RunningServer) => Promise<void>): Promise<void> {
  const prefix = `parascan-admin-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`
  const server = await startServer({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', PROTO_PARALLEL_MAX_WORKERS: '1', PARASCAN_KEY_PREFIX: prefix, ...env })
  try {
    await fn(server)
  } finally {
    await server.close()
    if (env.REDIS_URL !== undefined) await deleteKeys(env.REDIS_URL, prefix)
  }
}

async function deleteKeys (url: string, prefix: string): Promise<void> {
  const redis = new Redis(url)
  try {
    for await (const keys of redis.scanStream({ match: `${prefix}:*`, count: 500 })) {
      if ((keys as string[]).length > 0) await redis.del(...(keys as string[]))
    }
  } finally {
    await redis.quit()
  }
}

test('Redis mode serves the queue dashboard at /admin/queues, outside the OpenAPI document', async () => {
  await withServer({ REDIS_URL }, async (server) => {
    const page = await fetch(server.url + '/admin/queues')
    assert.equal(page.status, 200)
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/)
    assert.match(await page.text(), /<title>[^<]*parascan[^<]*<\/title>|bull/i)

    const submitted = await fetch(server.url + '/v1/scans', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ source: { type: 'range', start: 0, end: 10 }, parallel: { max_workers: 1 } })
    })
    assert.equal(submitted.status, 202)
    const { id } = await submitted.json() as { id: string }
    const api = await fetch(server.url + '/admin/queues/api/queues?activeQueue=scans&status=latest')
    assert.equal(api.status, 200)
    const { queues } = await api.json() as { queues: Array<{ name: string, readOnlyMode: boolean, jobs: Array<{ id: string }> }> }
    assert.deepEqual(queues.map((q) => q.name), ['scans', 'scan-partitions'])
    assert.equal(queues[0].readOnlyMode, true)
    assert.ok(queues[0].jobs.some((job) => job.id === id), 'the submitted scan is a job on the dashboard')

    const openapi = await (await fetch(server.url + '/docs/json')).json() as { paths: Record<string, unknown> }
    assert.ok(Object.keys(openapi.paths).length > 0)
    assert.deepEqual(Object.keys(openapi.paths).filter((path) => path.startsWith('/admin')), [])
  })
})

test('PARASCAN_ADMIN_UI=false turns the dashboard off; a bad value stops the start naming the variable', async () => {
  await withServer({ REDIS_URL, PARASCAN_ADMIN_UI: 'false' }, async (server) => {
    const page = await fetch(server.url + '/admin/queues')
    assert.equal(page.status, 404)
    assert.match(page.headers.get('content-type') ?? '', /^application\/problem\+json/)
  })
  await assert.rejects(startServer({ PORT: '0', LOG_LEVEL: 'silent', PARASCAN_ADMIN_UI: 'yes' }), /PARASCAN_ADMIN_UI/)
})

test('embedded mode has no queue dashboard', async () => {
  await withServer({}, async (server) => {
    const page = await fetch(server.url + '/admin/queues')
    assert.equal(page.status, 404)
    assert.equal(((await page.json()) as { code: string }).code, 'PARASCAN_NOT_FOUND')
  })
})
