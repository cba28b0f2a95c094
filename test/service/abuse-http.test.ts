import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { gzipSync } from 'node:zlib'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { http, tempDataDir } from '../helpers/service-harness.js'
import { serverStarter, finished } from '../helpers/scan-client.js'

const { start } = serverStarter()

test('file errors name the path as given, never a server path; an unknown processor is told the known ones only', async () => {
  const dataDir = tempDataDir()
  const processorsDir = mkdtempSync(join(tmpdir(), 'parascan-plugins-'))
  writeFileSync(join(processorsDir, 'broken.mjs'), 'throw new Error("broken at " + import.meta.url)\n')
  const server = await start({ DATA_DIR: dataDir, PROCESSORS_DIR: processorsDir })
  for (const path of ['x'.repeat(5000), `${'a/'.repeat(3000)}b`, 'missing.ndjson', 'dir/../../etc/passwd']) {
    const answer = await http(server.url, 'POST', '/v1/scans', { source: { type: 'file', path, format: 'ndjson' } })
    assert.ok(answer.status >= 400 && answer.status < 500, String(answer.status))
    const text = JSON.stringify(answer.json)
    assert.ok(!text.includes(dataDir) && !text.includes(tmpdir()), text.slice(0, 300))
  }
  const unknown = await http(server.url, 'POST', '/v1/scans', { source: { type: 'range', start: 0, end: 1 }, pipeline: [{ processor: 'nope' }] })
  assert.equal(unknown.status, 400)
  assert.match(unknown.json.errors[0].message, /unknown processor "nope"; known: synthetic$/)
  assert.ok(!JSON.stringify(unknown.json).includes(processorsDir))
})

test('repeated wrong keys from one address are braked: after PARASCAN_AUTH_FAILURE_LIMIT of them every request from it is a 429 with Retry-After, even with a right key', async () => {
  const key = 'a-key-that-is-long-enough'
  const server = await start({ PARASCAN_API_KEYS: `a:${key}`, PARASCAN_AUTH_FAILURE_LIMIT: '5', PARASCAN_AUTH_FAILURE_WINDOW: '2s' })
  assert.equal((await http(server.url, 'GET', '/v1/scans', undefined, { authorization: `Bearer ${key}` })).status, 200)
  const statuses: number[] = []
  for (let i = 0; i < 8; i++) statuses.push((await http(server.url, 'GET', '/v1/scans', undefined, { authorization: `Bearer guess-${i}-xxxxxxxxxxxx` })).status)
  assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429, 429, 429])
  const braked = await http(server.url, 'GET', '/v1/scans', undefined, { authorization: `Bearer ${key}` })
  assert.equal(braked.status, 429)
  assert.equal(braked.json.code, 'PARASCAN_RATE_LIMITED')
  assert.ok(Number(braked.headers.get('retry-after')) >= 1)
  assert.equal((await http(server.url, 'GET', '/healthz')).status, 200, 'open routes are not braked')
  await new Promise((resolve) => setTimeout(resolve, 2100))
  assert.equal((await http(server.url, 'GET', '/v1/scans', undefined, { authorization: `Bearer ${key}` })).status, 200, 'the brake ends with its window')
})

/** Sends `head` on a raw socket, then `trickle` one byte every `everyMs`; resolves with what the server answered and when. */
async function rawExchange (url: string, head: string, trickle = '', everyMs = 500): Promise<{ text: string, ms: number }> {
  const { hostname, port } = new URL(url)
  const socket = connect(Number(port), hostname)
  const began = Date.now()
  let text = ''
  socket.on('data', (chunk: Buffer) => { text += chunk.toString('utf8') })
  socket.write(head)
  let i = 0
  const timer = setInterval(() => { if (i < trickle.length && socket.writable) socket.write(trickle[i++]) }, everyMs)
  await new Promise<void>((resolve) => { socket.on('close', () => resolve()); socket.on('error', () => resolve()) })
  clearInterval(timer)
  return { text, ms: Date.now() - began }
}

function problemOf (text: string): { status: number, body: any, type: string } {
  const [head, body] = text.split('\r\n\r\n')
  return { status: Number(head.split(' ')[1]), type: /content-type: ([^\r]+)/i.exec(head)?.[1] ?? '', body: JSON.parse(body) }
}

test('a body sent one byte at a time is cut off after PARASCAN_REQUEST_TIMEOUT with a 408 problem+json; slow headers after PARASCAN_HEADERS_TIMEOUT; a huge request line is a 431 problem+json', async () => {
  const server = await start({ PARASCAN_REQUEST_TIMEOUT: '2s', PARASCAN_HEADERS_TIMEOUT: '1s' })
  const slowBody = await rawExchange(server.url, 'POST /v1/scans HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{', 'x'.repeat(100), 300)
  const body = problemOf(slowBody.text)
  assert.equal(body.status, 408)
  assert.match(body.type, /^application\/problem\+json/)
  assert.equal(body.body.code, 'PARASCAN_REQUEST_TIMEOUT')
  assert.ok(slowBody.ms < 8000, `cut off after ${slowBody.ms} ms`)
  const slowHeaders = await rawExchange(server.url, 'GET /v1/scans HTTP/1.1\r\nHost: x\r\n', 'X-Slow: 1234567890123456789012345678901234567890', 200)
  assert.equal(problemOf(slowHeaders.text).status, 408)
  assert.equal(problemOf(slowHeaders.text).body.code, 'PARASCAN_REQUEST_TIMEOUT')
  assert.ok(slowHeaders.ms < 6000, `cut off after ${slowHeaders.ms} ms`)
  const long = problemOf((await rawExchange(server.url, `GET /v1/scans?x=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`)).text)
  assert.equal(long.status, 431)
  assert.match(long.type, /^application\/problem\+json/)
  assert.equal(long.body.code, 'PARASCAN_HEADERS_TOO_LARGE')
  assert.equal((await http(server.url, 'GET', '/healthz')).status, 200)
})

test('PARASCAN_MAX_CONNECTIONS caps open connections: one more gets a 503 problem+json with Retry-After and is closed at once, and is served again once one closes', async () => {
  const server = await start({ PARASCAN_MAX_CONNECTIONS: '3' })
  const { hostname, port } = new URL(server.url)
  const open = await Promise.all(Array.from({ length: 3 }, async () => await new Promise<Socket>((resolve) => { const s = connect(Number(port), hostname, () => resolve(s)) })))
  await new Promise((resolve) => setTimeout(resolve, 200))
  const extra = await rawExchange(server.url, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
  const refused = problemOf(extra.text)
  assert.equal(refused.status, 503, extra.text)
  assert.match(refused.type, /^application\/problem\+json/)
  assert.equal(refused.body.code, 'PARASCAN_TOO_MANY_CONNECTIONS')
  assert.match(extra.text, /\r\nRetry-After: 1\r\n/)
  assert.match(extra.text, /\r\nConnection: close\r\n/)
  const silent = await new Promise<string>((resolve) => {
    let text = ''
    const socket = connect(Number(port), hostname)
    socket.on('data', (chunk: Buffer) => { text += chunk.toString('utf8') })
    socket.on('close', () => resolve(text))
    socket.on('error', () => resolve(text))
  })
  assert.equal(problemOf(silent).body.code, 'PARASCAN_TOO_MANY_CONNECTIONS', 'a connection that sends nothing is answered and closed too')
  open[0].destroy()
  await new Promise((resolve) => setTimeout(resolve, 200))
  const again = await rawExchange(server.url, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
  assert.match(again.text, /^HTTP\/1.1 200/)
  for (const socket of open) socket.destroy()
})

test('a compressed body is a 415 problem+json; __proto__ inside inline records is data, at the top of the body an unknown key; messages say each thing once', async () => {
  const server = await start({ PARASCAN_RATE_LIMIT: '1000', PARASCAN_RATE_LIMIT_WINDOW: '1m' })
  const gzipped = await fetch(`${server.url}/v1/scans`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gzipSync(JSON.stringify({ source: { type: 'range', start: 0, end: 1 } })) })
  assert.equal(gzipped.status, 415)
  assert.match(gzipped.headers.get('content-type') ?? '', /^application\/problem\+json/)
  assert.equal((await gzipped.json() as { code: string }).code, 'PARASCAN_UNSUPPORTED_MEDIA_TYPE')
  const text = '{"source":{"type":"inline","records":[{"__proto__":{"admin":true},"constructor":{"prototype":1},"n":1}]},"pipeline":[{"filter":"record.n == 1.0"},{"map":"record"}]}'
  const accepted = await fetch(`${server.url}/v1/scans`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text })
  assert.equal(accepted.status, 202, await accepted.clone().text())
  const id = (await accepted.json() as { id: string }).id
  assert.equal((await finished(server.url, id)).status, 'succeeded')
  const results = await (await fetch(`${server.url}/v1/scans/${id}/results`)).text()
  assert.match(results, /"items":\[\{"__proto__":\{"admin":true\},"constructor":\{"prototype":1\},"n":1\}\]/)
  assert.equal(({} as Record<string, unknown>).admin, undefined)
  const top = await fetch(`${server.url}/v1/scans`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"__proto__":{"x":1},"source":{"type":"range","start":0,"end":3}}' })
  assert.equal(top.status, 400)
  assert.doesNotMatch(JSON.stringify(await top.json()), /not valid JSON/i)
})

test('a JSON body is UTF-8: bytes that are not UTF-8 are a 400 and another declared charset (also beside utf-8) a 415, never characters replaced by U+FFFD; a byte order mark and charset=utf-8 are fine', async () => {
  const server = await start()
  const body = (record: Buffer): Buffer => Buffer.concat([Buffer.from('{"source":{"type":"inline","records":["'), record, Buffer.from('"]}}')])
  const post = async (payload: Buffer, contentType: string): Promise<Response> => await fetch(`${server.url}/v1/scans`, { method: 'POST', headers: { 'content-type': contentType }, body: payload })
  const latin1 = Buffer.from('café', 'latin1')
  for (const [payload, contentType, status, code] of [
    [body(latin1), 'application/json', 400, 'PARASCAN_MALFORMED_JSON'],
    [body(Buffer.from([0xed, 0xa0, 0x80])), 'application/json', 400, 'PARASCAN_MALFORMED_JSON'],
    [body(latin1), 'application/json; charset=iso-8859-1', 415, 'PARASCAN_UNSUPPORTED_MEDIA_TYPE'],
    [body(Buffer.from('café')), 'application/json; charset="UTF-16"', 415, 'PARASCAN_UNSUPPORTED_MEDIA_TYPE'],
    [body(latin1), 'application/json; charset=utf-8; charset=latin1', 415, 'PARASCAN_UNSUPPORTED_MEDIA_TYPE']
  ] as const) {
    const answer = await post(payload, contentType)
    assert.equal(answer.status, status, `${contentType}: ${await answer.clone().text()}`)
    assert.match(answer.headers.get('content-type') ?? '', /^application\/problem\+json/)
    assert.equal((await answer.json() as { code: string }).code, code)
  }
  for (const [payload, contentType] of [[body(Buffer.from('café')), 'application/json; charset=UTF-8'], [Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body(Buffer.from('café'))]), 'application/json']] as const) {
    const accepted = await post(payload, contentType)
    assert.equal(accepted.status, 202, await accepted.clone().text())
    const id = (await accepted.json() as { id: string }).id
    assert.equal((await finished(server.url, id)).status, 'succeeded')
    assert.deepEqual((await (await fetch(`${server.url}/v1/scans/${id}/results`)).json() as { items: unknown[] }).items, ['café'])
  }
})

test('a request of many or long bad fields gets a short problem: at most 20 field errors, each cut, the detail cut and saying how many more', async () => {
  const server = await start()
  const long = 'k'.repeat(1_000_000)
  const bodies: Record<string, string> = {
    'many bad metrics': JSON.stringify({ source: { type: 'range', start: 0, end: 1 }, aggregate: { group_by: '1', metrics: Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`m${i}`, { op: 'nope' }])) } }),
    'many bad columns': JSON.stringify({ source: { type: 'file', path: 'x.csv', format: 'csv', columns: Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`c${i}`, 'nope'])) } }),
    'many unknown keys': JSON.stringify({ source: { type: 'range', start: 0, end: 1 }, ...Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, 1])) }),
    'a long unknown key': JSON.stringify({ source: { type: 'range', start: 0, end: 1 }, [long]: 1 }),
    'a long processor name': JSON.stringify({ source: { type: 'range', start: 0, end: 1 }, pipeline: [{ processor: long }] }),
    'a long file path': JSON.stringify({ source: { type: 'file', path: long, format: 'ndjson' } })
  }
  for (const [what, body] of Object.entries(bodies)) {
    const response = await fetch(`${server.url}/v1/scans`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    const text = await response.text()
    assert.ok(response.status >= 400 && response.status < 500, `${what}: ${response.status}`)
    assert.match(String(response.headers.get('content-type')), /^application\/problem\+json/)
    assert.ok(text.length < 32 * 1024, `${what}: an answer of ${text.length} characters to a body of ${body.length}`)
    const problem = JSON.parse(text) as { detail: string, errors?: Array<{ path: string, message: string }> }
    assert.ok((problem.errors ?? []).length <= 20, `${what}: ${problem.errors?.length} field errors`)
    assert.match(problem.detail, /more/, what)
  }
  assert.equal((await http(server.url, 'GET', '/healthz')).status, 200)
})
