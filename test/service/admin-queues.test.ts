import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Redis } from 'ioredis'
import { QueueEvents } from 'bullmq'
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

interface BoardJob { id: string, name: string, data: { id: string, summary?: Record<string, unknown> }, progress: unknown, finishedOn?: number }

test('the dashboard shows each scan by a readable name with its request summary, and its live progress (throttled job progress)', async () => {
  await withServer({ REDIS_URL, PARASCAN_PROGRESS_INTERVAL: '50ms' }, async (server) => {
    const events = new QueueEvents('scans', { connection: { url: REDIS_URL } as never, prefix: server.config.keyPrefix })
    const updates: Array<{ at: number, progress: number }> = []
    const started = performance.now()
    events.on('progress', ({ data }) => { updates.push({ at: performance.now() - started, progress: (data as { progress: number }).progress }) })
    await events.waitUntilReady()
    try {
      const request = {
        source: { type: 'range', start: 0, end: 15_000 },
        pipeline: [{ filter: 'record % 3 != 1' }, { processor: 'synthetic', params: { cost_us: 200 } }, { map: `"${'x'.repeat(400)}"` }],
        parallel: { max_workers: 1 },
        max_results: 5
      }
      const submitted = await fetch(server.url + '/v1/scans', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) })
      assert.equal(submitted.status, 202)
      const { id } = await submitted.json() as { id: string }
      const job = async (status: string): Promise<BoardJob | undefined> => {
        const api = await (await fetch(`${server.url}/admin/queues/api/queues?activeQueue=scans&status=${status}`)).json() as { queues: Array<{ jobs: BoardJob[] }> }
        return api.queues[0].jobs.find((entry) => entry.id === id)
      }
      const seen: number[] = []
      let running: BoardJob | undefined
      for (let i = 0; i < 600; i++) {
        const active = await job('active')
        const progress = (active?.progress as { progress?: number } | undefined)?.progress
        if (active !== undefined && typeof progress === 'number' && progress > 0 && progress < 100) {
          running = active
          if (seen.at(-1) !== progress) seen.push(progress)
          if (seen.length >= 2) break
        }
        if ((await job('completed')) !== undefined) break
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      assert.ok(running !== undefined, 'the running job carries a progress')
      assert.ok(seen.length >= 2 && seen[1] > seen[0], `progress moves while the scan runs: ${seen.join(', ')}`)
      assert.equal(running.name, 'range [0, 15000): filter → synthetic → map')
      assert.deepEqual(running.data.summary, {
        source: 'range [0, 15000)',
        pipeline: ['filter: record % 3 != 1', 'processor: synthetic {"cost_us":200}', `map: "${'x'.repeat(153)}…`],
        ordered: false,
        on_error: 'fail',
        max_results: 5,
        parallel: { max_workers: 1 }
      })
      const running_ = running.progress as Record<string, number>
      assert.deepEqual(Object.keys(running_).sort(), ['eta_seconds', 'matched', 'processed', 'progress', 'records_per_second', 'skipped', 'total'])
      assert.equal(running_.total, 15_000)

      let done: BoardJob | undefined
      for (let i = 0; i < 600 && done === undefined; i++) {
        done = await job('completed')
        if (done === undefined) await new Promise((resolve) => setTimeout(resolve, 50))
      }
      assert.ok(done !== undefined, 'the job completes')
      assert.deepEqual({ ...(done.progress as Record<string, number>), records_per_second: 0, eta_seconds: 0 },
        { progress: 100, processed: 15_000, total: 15_000, matched: 10_000, skipped: 0, records_per_second: 0, eta_seconds: 0 })
      const seconds = (updates.at(-1)!.at - updates[0].at) / 1000
      assert.ok(updates.length <= Math.ceil(seconds) + 2, `${updates.length} progress writes in ${seconds.toFixed(1)} s while the scan wrote its status every 50 ms`)
      for (let i = 1; i < updates.length; i++) assert.ok(updates[i].progress >= updates[i - 1].progress, 'progress never goes back')
    } finally {
      await events.close()
    }
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
