import assert from 'node:assert/strict'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import { prefersNdjson } from '../../src/http/prefers-ndjson.js'
import { MemoryScanStore } from '../../src/store/memory-scan-store.js'
import { emptyProgress } from '../../src/store/scan-record.js'
import type { RunningServer } from '../../src/server.js'
import { build, realServer, tempDataDir, waitFor } from '../helpers/service-harness.js'

type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any

async function call (base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number, headers: Headers, text: string, json: Json }> {
  const response = await fetch(base + path, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  const text = await response.text()
  let json: Json
  try { json = JSON.parse(text) } catch { json = undefined }
  return { status: response.status, headers: response.headers, text, json }
}

async function allPages (base: string, id: string, limit: number): Promise<{ items: unknown[], pages: Json[], retryAfter: Array<string | null> }> {
  const items: unknown[] = []
  const pages: Json[] = []
  const retryAfter: Array<string | null> = []
  let cursor: string | undefined
  for (;;) {
    const page = await call(base, 'GET', `/v1/scans/${id}/results?limit=${limit}${cursor === undefined ? '' : `&cursor=${cursor}`}`)
    assert.equal(page.status, 200, page.text)
    items.push(...page.json.items)
    pages.push(page.json)
    retryAfter.push(page.headers.get('retry-after'))
    if (page.json.complete) return { items, pages, retryAfter }
    cursor = page.json.next_cursor
  }
}

async function ndjson (base: string, id: string): Promise<{ status: number, headers: Headers, lines: unknown[], text: string }> {
  const response = await fetch(`${base}/v1/scans/${id}/results`, { headers: { accept: 'application/x-ndjson' } })
  const text = await response.text()
  const lines = response.ok ? text.split('\n').slice(0, -1).map((line) => JSON.parse(line) as unknown) : []
  if (response.ok) assert.ok(text === '' || text.endsWith('\n'))
  return { status: response.status, headers: response.headers, lines, text }
}

const FINISHED = new Set(['succeeded', 'failed', 'cancelled'])
const byNumber = (a: unknown, b: unknown): number => (a as number) - (b as number)

describe('results of a scan', () => {
  let server: RunningServer
  before(async () => { server = await realServer() })
  after(async () => { await server.close() })

  async function finished (body: unknown): Promise<Json> {
    const accepted = await call(server.url, 'POST', '/v1/scans', body)
    assert.equal(accepted.status, 202, accepted.text)
    return await waitFor(async () => {
      const status = (await call(server.url, 'GET', `/v1/scans/${accepted.json.id as string}`)).json
      return ['succeeded', 'failed', 'cancelled'].includes(status.status) ? status : undefined
    }, 60_000)
  }

  it('NDJSON holds exactly what the pages hold, for ordered and unordered scans; Retry-After only while more can come', async () => {
    for (const ordered of [true, false]) {
      const status = await finished({ source: { type: 'range', start: 0, end: 20_000 }, pipeline: [{ filter: 'record % 3 == 0' }], ordered, parallel: { max_workers: 2 } })
      assert.equal(status.status, 'succeeded')
      assert.equal(status.result.partial, false)
      const pages = await allPages(server.url, status.id, 1000)
      assert.deepEqual(pages.retryAfter, pages.retryAfter.map(() => null), 'no Retry-After on any page of a finished scan')
      assert.ok(pages.pages.every((page) => page.partial === false))
      const download = await ndjson(server.url, status.id)
      assert.equal(download.status, 200)
      assert.match(String(download.headers.get('content-type')), /^application\/x-ndjson/)
      assert.equal(download.headers.get('scan-status'), 'succeeded')
      assert.equal(download.headers.get('results-count'), String(status.result.count))
      assert.deepEqual(download.lines, pages.items)
      const expected = Array.from({ length: 20_000 }, (_, i) => i).filter((i) => i % 3 === 0)
      if (ordered) assert.deepEqual(download.lines, expected)
      else assert.deepEqual([...download.lines].sort(byNumber), expected)
    }
  })

  it('Accept picks the form: JSON unless NDJSON ranks higher', async () => {
    assert.equal(prefersNdjson(undefined), false)
    assert.equal(prefersNdjson('application/x-ndjson'), true)
    assert.equal(prefersNdjson('application/ndjson, application/json;q=0.5'), true)
    assert.equal(prefersNdjson('application/json, application/x-ndjson;q=0.9'), false)
    assert.equal(prefersNdjson('*/*, application/x-ndjson'), false)
    assert.equal(prefersNdjson('application/x-ndjson;q=0'), false)
    const status = await finished({ source: { type: 'range', start: 0, end: 10 } })
    const json = await call(server.url, 'GET', `/v1/scans/${status.id}/results`, undefined, { accept: 'application/json, application/x-ndjson;q=0.5' })
    assert.equal(json.json.items.length, 10)
  })

  it('a scan that is queued or running has pages, not NDJSON (409); its pages set Retry-After at the end of what is stored', async () => {
    const accepted = await call(server.url, 'POST', '/v1/scans', { source: { type: 'range', start: 0, end: 1_000_000 }, pipeline: [{ processor: 'synthetic', params: { cost_us: 50 } }], parallel: { max_workers: 1 } })
    const id = accepted.json.id as string
    const refused = await ndjson(server.url, id)
    assert.equal(refused.status, 409)
    assert.equal(JSON.parse(refused.text).code, 'PARASCAN_SCAN_NOT_FINISHED')
    await waitFor(async () => (await call(server.url, 'GET', `/v1/scans/${id}`)).json.result.count > 0 ? true : undefined, 30_000)
    const last = await call(server.url, 'GET', `/v1/scans/${id}/results?limit=10000`)
    assert.equal(last.json.complete, false)
    assert.ok(last.json.items.length < 10_000 ? last.headers.get('retry-after') !== null : last.headers.get('retry-after') === null)
    const first = await call(server.url, 'GET', `/v1/scans/${id}/results?limit=1`)
    assert.equal(first.headers.get('retry-after'), null, 'a full page: the next one may be there already')
    assert.equal((await call(server.url, 'POST', `/v1/scans/${id}/cancel`)).status, 202)
  })

  it('while running, result.count never exceeds progress.processed or matched', async () => {
    const accepted = await call(server.url, 'POST', '/v1/scans', { source: { type: 'range', start: 0, end: 300_000 }, pipeline: [{ processor: 'synthetic', params: { cost_us: 5 } }], parallel: { max_workers: 2 } })
    const id = accepted.json.id as string
    let seen = 0
    for (;;) {
      const status = (await call(server.url, 'GET', `/v1/scans/${id}`)).json
      assert.ok(status.result.count <= status.progress.processed, JSON.stringify(status.progress) + JSON.stringify(status.result))
      assert.ok(status.result.count <= status.progress.matched, JSON.stringify(status.progress) + JSON.stringify(status.result))
      if (status.status === 'running' && status.result.count > 0) seen++
      if (status.status === 'succeeded') break
      await sleep(5)
    }
    assert.ok(seen > 0, 'the scan was seen running with results')
  })

  it('results of cancelled and failed scans stay readable and are marked partial, in pages and NDJSON alike', async () => {
    const accepted = await call(server.url, 'POST', '/v1/scans', { source: { type: 'range', start: 0, end: 1_000_000 }, pipeline: [{ processor: 'synthetic', params: { cost_us: 20 } }], parallel: { max_workers: 2 } })
    const id = accepted.json.id as string
    await waitFor(async () => (await call(server.url, 'GET', `/v1/scans/${id}`)).json.result.count > 1000 ? true : undefined, 30_000)
    const firstPage = await call(server.url, 'GET', `/v1/scans/${id}/results?limit=100`)
    assert.equal((await call(server.url, 'POST', `/v1/scans/${id}/cancel`)).status, 202)
    const cancelled = await waitFor(async () => {
      const status = (await call(server.url, 'GET', `/v1/scans/${id}`)).json
      return status.status === 'cancelled' ? status : undefined
    }, 30_000)
    assert.equal(cancelled.result.partial, true)
    assert.ok(cancelled.result.count <= cancelled.progress.processed)
    const resumed = await call(server.url, 'GET', `/v1/scans/${id}/results?limit=100&cursor=${firstPage.json.next_cursor as string}`)
    assert.equal(resumed.status, 200, 'a cursor taken while it ran goes on after the cancel')
    const pages = await allPages(server.url, id, 5000)
    assert.equal(pages.items.length, cancelled.result.count)
    assert.ok(pages.pages.every((page) => page.partial === true))
    assert.deepEqual(pages.items.slice(0, 100), firstPage.json.items)
    const download = await ndjson(server.url, id)
    assert.equal(download.headers.get('scan-status'), 'cancelled')
    assert.deepEqual(download.lines, pages.items)
    assert.equal(new Set(download.lines).size, download.lines.length)

    const failed = await finished({ source: { type: 'inline', records: [1, 2, 3, 'x', 5] }, pipeline: [{ map: 'record * 2' }], ordered: true, parallel: { max_workers: 1, initial_chunk_size: 1, min_chunk_size: 1, max_chunk_size: 1 } })
    assert.equal(failed.status, 'failed')
    assert.equal(failed.result.partial, true)
    const failedPages = await allPages(server.url, failed.id, 10)
    assert.equal(failedPages.items.length, failed.result.count)
    assert.deepEqual(failedPages.items, [2, 4, 6].slice(0, failed.result.count))
    assert.deepEqual((await ndjson(server.url, failed.id)).lines, failedPages.items)

    const early = await call(server.url, 'POST', '/v1/scans', { source: { type: 'range', start: 0, end: 10 } })
    await call(server.url, 'POST', `/v1/scans/${early.json.id as string}/cancel`)
    const ended = await waitFor(async () => {
      const status = (await call(server.url, 'GET', `/v1/scans/${early.json.id as string}`)).json
      return FINISHED.has(status.status) ? status : undefined
    }, 30_000)
    const earlyLines = await ndjson(server.url, early.json.id as string)
    assert.equal(earlyLines.status, 200)
    assert.equal(earlyLines.headers.get('scan-status'), ended.status)
    assert.equal(earlyLines.lines.length, ended.result.count)
  })
})

describe('results of a partitioned scan', () => {
  let server: RunningServer
  before(async () => { server = await realServer({ PARASCAN_PARTITION_RECORDS: '2500', PARASCAN_CONCURRENCY: '2' }) })
  after(async () => { await server.close() })

  it('NDJSON holds what the pages hold, ordered or not, and a cancelled one stays readable', async () => {
    for (const ordered of [true, false]) {
      const accepted = await call(server.url, 'POST', '/v1/scans', { source: { type: 'range', start: 0, end: 12_000 }, pipeline: [{ filter: 'record % 2 == 0' }], ordered })
      const status = await waitFor(async () => {
        const doc = (await call(server.url, 'GET', `/v1/scans/${accepted.json.id as string}`)).json
        return doc.status === 'succeeded' ? doc : undefined
      }, 60_000)
      const pages = await allPages(server.url, status.id, 700)
      assert.ok(pages.pages.every((page) => page.partial === false))
      const download = await ndjson(server.url, status.id)
      assert.equal(download.status, 200)
      assert.equal(download.headers.get('results-count'), '6000')
      assert.deepEqual(download.lines, pages.items)
      assert.deepEqual([...download.lines].sort(byNumber), Array.from({ length: 6000 }, (_, i) => i * 2))
    }
    const slow = await call(server.url, 'POST', '/v1/scans', { source: { type: 'range', start: 0, end: 1_000_000 }, pipeline: [{ processor: 'synthetic', params: { cost_us: 50 } }] })
    const id = slow.json.id as string
    await waitFor(async () => (await call(server.url, 'GET', `/v1/scans/${id}/results?limit=1`)).json.items.length > 0 ? true : undefined, 30_000)
    await call(server.url, 'POST', `/v1/scans/${id}/cancel`)
    const cancelled = await waitFor(async () => {
      const doc = (await call(server.url, 'GET', `/v1/scans/${id}`)).json
      return doc.status === 'cancelled' ? doc : undefined
    }, 30_000)
    assert.equal(cancelled.result.partial, true)
    const pages = await allPages(server.url, id, 5000)
    assert.ok(pages.pages.every((page) => page.partial === true))
    const download = await ndjson(server.url, id)
    assert.equal(download.status, 200)
    assert.equal(download.headers.get('scan-status'), 'cancelled')
    assert.deepEqual(download.lines, pages.items)
  })
})

/** A memory store that counts the result pages read from it. */
class CountingStore extends MemoryScanStore {
  pagesRead = 0
  override async readPages (id: string, attempt: string, from: number, count: number): Promise<string[]> {
    const pages = await super.readPages(id, attempt, from, count)
    this.pagesRead += pages.length
    return pages
  }
}

describe('NDJSON download of a large result set', () => {
  const PAGES = 8000
  const PER_PAGE = 100
  const pad = 'p'.repeat(60)
  let app: FastifyInstance
  let store: CountingStore
  let base: string

  async function stored (id: string): Promise<void> {
    await store.create({ id, status: 'queued', created_at: new Date().toISOString(), started_at: null, finished_at: null, expires_at: null, progress: emptyProgress(PAGES * PER_PAGE), result: { count: 0, truncated: false }, error: null, errors: [], metrics: null, attempt: null }, { source: { type: 'range', start: 0, end: 1 }, pipeline: [], ordered: false, on_error: 'fail' })
    await store.begin(id, 'a1', new Date().toISOString())
    for (let p = 0; p < PAGES; p += 100) {
      const batch: string[] = []
      for (let q = p; q < p + 100; q++) batch.push(JSON.stringify(Array.from({ length: PER_PAGE }, (_, i) => ({ i: q * PER_PAGE + i, pad }))))
      await store.appendPages(id, 'a1', batch)
    }
    const progress = { ...emptyProgress(PAGES * PER_PAGE), processed: PAGES * PER_PAGE, matched: PAGES * PER_PAGE, fraction: 1 }
    await store.finish(id, 'a1', { status: 'succeeded', progress, result: { count: PAGES * PER_PAGE, truncated: false }, error: null, errors: [], metrics: null }, new Date().toISOString())
  }

  function open (id: string): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(`${base}/v1/scans/${id}/results`, { headers: { accept: 'application/x-ndjson' } }, resolve)
      req.on('error', reject)
      req.end()
    })
  }

  before(async () => {
    store = new CountingStore()
    app = await buildApp({ store, consume: false, env: { LOG_LEVEL: 'silent', DATA_DIR: tempDataDir(), PROTO_PARALLEL_MAX_WORKERS: '1' } })
    base = await app.listen({ port: 0, host: '127.0.0.1' })
    await stored('big')
  })
  after(async () => { await app.close() })

  it('reads the store only as fast as a slow client reads, then sends every line', async () => {
    store.pagesRead = 0
    const response = await open('big')
    assert.equal(response.statusCode, 200)
    response.pause()
    await sleep(1000)
    const readWhilePaused = store.pagesRead
    const pageBytes = JSON.stringify(Array.from({ length: PER_PAGE }, (_, i) => ({ i, pad }))).length
    assert.ok(readWhilePaused * pageBytes < 24 * 1024 * 1024, `${readWhilePaused} pages (${readWhilePaused * pageBytes} bytes) read for a client that reads nothing`)
    assert.ok(readWhilePaused < PAGES / 2, `${readWhilePaused} of ${PAGES} pages read`)
    let lines = 0
    let tail = ''
    let next = 0
    for await (const chunk of response) {
      const text = tail + String(chunk)
      const parts = text.split('\n')
      tail = parts.pop() ?? ''
      for (const line of parts) {
        assert.equal((JSON.parse(line) as { i: number }).i, next++)
        lines++
      }
    }
    assert.equal(tail, '')
    assert.equal(lines, PAGES * PER_PAGE)
    assert.equal(store.pagesRead, PAGES)
  })

  it('stops reading when the client goes away mid-stream, and goes on serving', async () => {
    store.pagesRead = 0
    const response = await open('big')
    await new Promise((resolve) => response.once('data', resolve))
    response.destroy()
    await sleep(500)
    const after = store.pagesRead
    await sleep(500)
    assert.equal(store.pagesRead, after, 'no more reads after the client left')
    assert.ok(after < PAGES / 2)
    assert.equal((await call(base, 'GET', '/v1/scans/big')).status, 200)
  })

  it('ends with an error, not a clean end, when the results go away while they are sent', async () => {
    await stored('doomed')
    const response = await open('doomed')
    response.pause()
    await sleep(200)
    assert.equal((await call(base, 'DELETE', '/v1/scans/doomed')).status, 204)
    let lines = 0
    const outcome = await (async () => {
      try {
        for await (const chunk of response) lines += String(chunk).split('\n').length - 1
        return 'clean end'
      } catch (error) {
        return (error as Error).message
      }
    })()
    assert.notEqual(outcome, 'clean end', `${lines} lines and a clean end`)
    assert.ok(lines < PAGES * PER_PAGE)
  })
})

describe('results response schema', () => {
  it('a results page is sent through its response schema: a field the schema does not know is left out, a wrong type is a 500 problem', async (t) => {
    const app = await build(t)
    const submitted = await app.inject({ method: 'POST', url: '/v1/scans', payload: { source: { type: 'inline', records: [{ a: 1 }] } } })
    const id = submitted.json().id as string
    await waitFor(async () => ['succeeded'].includes((await app.inject({ method: 'GET', url: `/v1/scans/${id}` })).json().status) ? true : undefined)
    const served = app.scans.results.bind(app.scans)
    const page = await served(id, 10)
    assert.deepEqual(JSON.parse((await app.inject({ method: 'GET', url: `/v1/scans/${id}/results` })).body), { items: [{ a: 1 }], complete: true, partial: false })
    app.scans.results = async () => ({ ...page, page: { ...page.page, internal: 'not for clients' } as typeof page.page })
    assert.deepEqual(Object.keys((await app.inject({ method: 'GET', url: `/v1/scans/${id}/results` })).json()), ['items', 'complete', 'partial'])
    app.scans.results = async () => ({ ...page, page: { ...page.page, complete: 'yes' as unknown as boolean } })
    const broken = await app.inject({ method: 'GET', url: `/v1/scans/${id}/results` })
    assert.equal(broken.statusCode, 500)
    assert.equal(broken.json().code, 'PARASCAN_INTERNAL')
  })
})
