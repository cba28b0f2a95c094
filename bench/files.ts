/**
 * `npm run bench:files`: filter an NDJSON / CSV file of events and count, with three predicates
 * (a selective one on a string field, a numeric-only one whose raw filter reads numbers from the
 * bytes, one that matches most lines), with parascan (the pool and the scan task module, and the HTTP service in
 * embedded mode), DuckDB (2 threads), jq (when installed, first predicate) and a plain sequential
 * Node loop. Each contestant runs in its own process, so peak RSS and CPU time are its own.
 *
 *   node dist/bench/files.js [--records 2000000] [--only parascan,service,duckdb,jq,node] [--cases selective,numeric,most] [--repeat 1] [--big] [--quoted]
 *
 * --big adds a 2 GB NDJSON file (about 2 million records of ~1 KB) scanned by parascan.
 * --quoted adds the same CSV with every text field in double quotes, scanned by parascan and DuckDB.
 */
import { spawn, spawnSync } from 'node:child_process'
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { once } from 'node:events'
import { loadavg } from 'node:os'
import { Command } from 'commander'

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const dataDir = join(repo, '.bench-data')

interface Case {
  key: string
  title: string
  cel: string
  sql: string
  test: (type: string, amount: number) => boolean
}

const CASES: Case[] = [
  { key: 'selective', title: '(a) selective string predicate', cel: 'record.type == "purchase" && record.amount > 100.0', sql: "type = 'purchase' AND amount > 100.0", test: (type, amount) => type === 'purchase' && amount > 100 },
  { key: 'numeric', title: '(b) numeric-only predicate', cel: 'record.amount > 400.0', sql: 'amount > 400.0', test: (_type, amount) => amount > 400 },
  { key: 'most', title: '(c) predicate matching most lines', cel: 'record.type == "view" || record.type == "click" || record.type == "purchase"', sql: "type = 'view' OR type = 'click' OR type = 'purchase'", test: (type) => type === 'view' || type === 'click' || type === 'purchase' }
]

interface Measurement {
  name: string
  ms: number
  count: number
  rssMb: number | null
  /** CPU time (user + system) of the whole process, all threads: less sensitive than wall time to other load. */
  cpuMs?: number
  note?: string
}

const TYPES = ['view', 'view', 'view', 'click', 'click', 'purchase', 'signup', 'view', 'click', 'view']
const COUNTRIES = ['DE', 'FR', 'US', 'GB', 'JP', 'BR', 'IN', 'ES', 'IT', 'NL']

function* events (n: number, payload: number): Generator<{ id: number, ts: number, user: string, type: string, country: string, amount: number, payload?: string }> {
  let seed = 42
  const next = () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0
    return seed / 2 ** 32
  }
  const filler = payload > 0 ? 'x'.repeat(payload) : ''
  for (let i = 0; i < n; i++) {
    const event = {
      id: i,
      ts: 1714500000 + Math.floor(i / 20),
      user: `u${Math.floor(next() * 100000)}`,
      type: TYPES[Math.floor(next() * TYPES.length)],
      country: COUNTRIES[Math.floor(next() * COUNTRIES.length)],
      amount: Math.round(next() * 50000) / 100
    }
    yield payload > 0 ? { ...event, payload: filler } : event
  }
}

async function writeLines (path: string, lines: Iterable<string>): Promise<void> {
  if (existsSync(path)) return
  mkdirSync(dirname(path), { recursive: true })
  const partial = path + '.partial'
  const out = createWriteStream(partial)
  let batch = ''
  for (const line of lines) {
    batch += line + '\n'
    if (batch.length > 1 << 20) {
      if (!out.write(batch)) await once(out, 'drain')
      batch = ''
    }
  }
  out.end(batch)
  await once(out, 'finish')
  renameSync(partial, path)
}

async function generate (records: number, big: boolean, quoted: boolean): Promise<{ ndjson: string, csv: string, bigNdjson?: string, quotedCsv?: string }> {
  const ndjson = join(dataDir, `events-${records}.ndjson`)
  const csv = join(dataDir, `events-${records}.csv`)
  await writeLines(ndjson, (function * () { for (const e of events(records, 0)) yield JSON.stringify(e) })())
  await writeLines(csv, (function * () {
    yield 'id,ts,user,type,country,amount'
    for (const e of events(records, 0)) yield `${e.id},${e.ts},${e.user},${e.type},${e.country},${e.amount}`
  })())
  let quotedCsv: string | undefined
  if (quoted) {
    quotedCsv = join(dataDir, `events-${records}-quoted.csv`)
    await writeLines(quotedCsv, (function * () {
      yield 'id,ts,user,type,country,amount'
      for (const e of events(records, 0)) yield `${e.id},${e.ts},"${e.user}","${e.type}","${e.country}",${e.amount}`
    })())
  }
  if (!big) return { ndjson, csv, quotedCsv }
  const bigNdjson = join(dataDir, 'events-2gb.ndjson')
  await writeLines(bigNdjson, (function * () { for (const e of events(2_100_000, 900)) yield JSON.stringify(e) })())
  return { ndjson, csv, bigNdjson, quotedCsv }
}

function cpuMs (since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since)
  return Math.round((used.user + used.system) / 1000)
}

function peakRssMb (): number {
  return Math.round(process.resourceUsage().maxRSS / 1024)
}

/** A native newline search over the file (4 MiB reads, `Buffer.indexOf` per line), the floor of an index pass. */
async function newlineSearch (file: string): Promise<number> {
  const { open } = await import('node:fs/promises')
  const handle = await open(file, 'r')
  const buffer = Buffer.allocUnsafe(4 * 1024 * 1024)
  let lines = 0
  try {
    for (let position = 0; ;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position)
      if (bytesRead === 0) break
      const chunk = buffer.subarray(0, bytesRead)
      for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) lines++
      position += bytesRead
    }
  } finally {
    await handle.close()
  }
  return lines
}

/**
 * The file read as workers read it (256 KiB positional reads into one buffer), with or without
 * the UTF-8 check that every chunk gets: the difference is what the check costs a scan.
 */
async function chunkReads (file: string, check: boolean): Promise<number> {
  const { isUtf8 } = await import('node:buffer')
  const { closeSync, openSync, readSync } = await import('node:fs')
  const fd = openSync(file, 'r')
  const buffer = Buffer.allocUnsafe(256 * 1024)
  let valid = 0
  try {
    for (let position = 0; ;) {
      const n = readSync(fd, buffer, 0, buffer.length, position)
      if (n === 0) break
      if (check && isUtf8(buffer.subarray(0, n))) valid++
      position += n
    }
  } finally {
    closeSync(fd)
  }
  return valid
}

/** Wall and CPU time of one call. */
async function timed (run: () => Promise<unknown>): Promise<{ ms: number, cpuMs: number }> {
  const cpu = process.cpuUsage()
  const started = performance.now()
  await run()
  return { ms: performance.now() - started, cpuMs: cpuMs(cpu) }
}

function gbPerSecond (bytes: number, ms: number): string {
  return (bytes / 1e9 / (ms / 1000)).toFixed(2)
}

async function runParascan (file: string, format: 'ndjson' | 'csv', test: Case): Promise<Measurement[]> {
  const { WorkStealingPool } = await import('../src/index.js')
  const { planScan } = await import('../src/pipeline/index.js')
  const { scanRequestSchema } = await import('../schemas/scan-request.js')
  const body = scanRequestSchema.parse({
    source: { type: 'file', path: file.slice(dataDir.length + 1), format, ...(format === 'csv' ? { columns: { amount: 'number' } } : {}) },
    pipeline: [{ filter: test.cel }],
    aggregate: { metrics: { n: { op: 'count' } } }
  })
  const out: Measurement[] = []
  const size = statSync(file).size
  const started = performance.now()
  const startedCpu = process.cpuUsage()
  const pool = new WorkStealingPool({ config: { max_workers: 2 } })
  try {
    for (const phase of ['cold', 'warm']) {
      const t0 = phase === 'cold' ? started : performance.now()
      const cpu0 = phase === 'cold' ? startedCpu : process.cpuUsage()
      const plan = await planScan(body, { dataDir })
      const indexed = performance.now()
      const rows = await pool.scan(plan.total, plan.task, {}) as Array<{ n: number }>
      out.push({
        name: `parascan ${format} (${phase === 'cold' ? 'index built' : 'index cached'})`,
        ms: performance.now() - t0,
        count: rows[0].n,
        rssMb: peakRssMb(),
        cpuMs: cpuMs(cpu0),
        note: phase === 'cold' ? `pool start and index ${Math.round(indexed - t0)} ms` : undefined
      })
    }
  } finally {
    await pool.close()
  }
  const { indexCsv, indexNdjson } = await import('../src/sources/record-index.js')
  const indexPass = () => format === 'csv' ? indexCsv(file) : indexNdjson(file)
  let search = { ms: Infinity, cpuMs: 0 }
  let pass = { ms: Infinity, cpuMs: 0 }
  let reads = { ms: Infinity, cpuMs: 0 }
  let checked = { ms: Infinity, cpuMs: 0 }
  for (let round = 0; round < 4; round++) {
    const searched = await timed(() => newlineSearch(file))
    const passed = await timed(indexPass)
    const read = await timed(() => chunkReads(file, false))
    const check = await timed(() => chunkReads(file, true))
    if (round > 0 && searched.ms < search.ms) search = searched
    if (round > 0 && passed.ms < pass.ms) pass = passed
    if (round > 0 && read.ms < reads.ms) reads = read
    if (round > 0 && check.ms < checked.ms) checked = check
  }
  out[0].note += `; index pass alone ${gbPerSecond(size, pass.ms)} GB/s (${Math.round(pass.ms)} ms, CPU ${pass.cpuMs} ms), ` +
    `native newline search ${gbPerSecond(size, search.ms)} GB/s (${Math.round(search.ms)} ms, CPU ${search.cpuMs} ms), ` +
    `chunk reads ${Math.round(reads.ms)} ms (CPU ${reads.cpuMs} ms), with the UTF-8 check ${Math.round(checked.ms)} ms (CPU ${checked.cpuMs} ms) (file in the page cache)`
  return out
}

async function runService (file: string, format: 'ndjson' | 'csv', test: Case): Promise<Measurement[]> {
  const { startServer } = await import('../src/server.js')
  const started = performance.now()
  const startedCpu = process.cpuUsage()
  const server = await startServer({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', DATA_DIR: dataDir, PROTO_PARALLEL_MAX_WORKERS: '2', PARASCAN_PROGRESS_INTERVAL: '50ms' })
  const body = {
    source: { type: 'file', path: file.slice(dataDir.length + 1), format, ...(format === 'csv' ? { columns: { amount: 'number' } } : {}) },
    pipeline: [{ filter: test.cel }],
    aggregate: { metrics: { n: { op: 'count' } } }
  }
  const out: Measurement[] = []
  try {
    for (const phase of ['cold', 'warm']) {
      const t0 = phase === 'cold' ? started : performance.now()
      const cpu0 = phase === 'cold' ? startedCpu : process.cpuUsage()
      const submitted = await server.app.inject({ method: 'POST', url: '/v1/scans', payload: body })
      if (submitted.statusCode !== 202) throw new Error(submitted.body)
      const id = (submitted.json() as { id: string }).id
      for (;;) {
        const status = (await server.app.inject({ method: 'GET', url: `/v1/scans/${id}?wait=30s` })).json() as { status: string, error: unknown }
        if (status.status === 'succeeded') break
        if (status.status === 'failed' || status.status === 'cancelled') throw new Error(JSON.stringify(status.error))
      }
      const page = (await server.app.inject({ method: 'GET', url: `/v1/scans/${id}/results` })).json() as { items: Array<{ n: number }> }
      out.push({ name: `parascan service ${format} (${phase === 'cold' ? 'index built' : 'index cached'})`, ms: performance.now() - t0, count: page.items[0].n, rssMb: peakRssMb(), cpuMs: cpuMs(cpu0), note: 'POST, GET status with wait=30s until it ends, GET results' })
    }
  } finally {
    await server.close()
  }
  return out
}

async function runDuckdb (file: string, format: 'ndjson' | 'csv', test: Case): Promise<Measurement[]> {
  const { DuckDBInstance } = await import('@duckdb/node-api')
  const started = performance.now()
  const startedCpu = process.cpuUsage()
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' })
  const connection = await instance.connect()
  const from = format === 'csv' ? `read_csv('${file}', header = true)` : `read_ndjson('${file}')`
  const reader = await connection.runAndReadAll(`SELECT count(*) FROM ${from} WHERE ${test.sql}`)
  const count = Number(reader.getRows()[0][0])
  const ms = performance.now() - started
  connection.closeSync()
  instance.closeSync()
  return [{ name: `DuckDB ${format} (2 threads)`, ms, count, rssMb: peakRssMb(), cpuMs: cpuMs(startedCpu) }]
}

async function runNodeLoop (file: string, test: Case): Promise<Measurement[]> {
  const started = performance.now()
  const startedCpu = process.cpuUsage()
  let count = 0
  let rest = ''
  for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const lines = (rest + (chunk as string)).split('\n')
    rest = lines.pop() ?? ''
    for (const line of lines) {
      if (line === '') continue
      const record = JSON.parse(line) as { type: string, amount: number }
      if (test.test(record.type, record.amount)) count++
    }
  }
  if (rest !== '') {
    const record = JSON.parse(rest) as { type: string, amount: number }
    if (test.test(record.type, record.amount)) count++
  }
  return [{ name: 'Node sequential loop ndjson (JSON.parse per line)', ms: performance.now() - started, count, rssMb: peakRssMb(), cpuMs: cpuMs(startedCpu) }]
}

/** The strongest plain loop over this CSV: split lines on `\\n` and fields on `,` (no quote handling, which this file does not need). */
async function runNodeCsvLoop (file: string, test: Case): Promise<Measurement[]> {
  const started = performance.now()
  const startedCpu = process.cpuUsage()
  let count = 0
  let rest = ''
  let header: string[] | undefined
  let type = -1
  let amount = -1
  const visit = (line: string) => {
    if (line === '') return
    const fields = line.split(',')
    if (header === undefined) {
      header = fields
      type = header.indexOf('type')
      amount = header.indexOf('amount')
    } else if (test.test(fields[type], Number(fields[amount]))) {
      count++
    }
  }
  for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const lines = (rest + (chunk as string)).split('\n')
    rest = lines.pop() ?? ''
    for (const line of lines) visit(line)
  }
  visit(rest)
  return [{ name: 'Node sequential loop csv (split on commas)', ms: performance.now() - started, count, rssMb: peakRssMb(), cpuMs: cpuMs(startedCpu) }]
}

async function runJq (file: string, test: Case): Promise<Measurement[]> {
  if (test.key !== 'selective') throw new Error('jq runs the selective predicate only')
  const started = performance.now()
  const jq = spawn('jq', ['-c', 'select(.type == "purchase" and .amount > 100) | 1', file], { stdio: ['ignore', 'pipe', 'inherit'] })
  let count = 0
  jq.stdout.on('data', (chunk: Buffer) => { for (const byte of chunk) if (byte === 0x0a) count++ })
  const [code] = await once(jq, 'close') as [number]
  if (code !== 0) throw new Error(`jq exited with ${code}`)
  return [{ name: 'jq ndjson (1 thread)', ms: performance.now() - started, count, rssMb: null }]
}

async function child (contestant: string, file: string, format: 'ndjson' | 'csv', key: string): Promise<void> {
  const test = CASES.find((c) => c.key === key) ?? CASES[0]
  const runs: Record<string, () => Promise<Measurement[]>> = {
    parascan: () => runParascan(file, format, test),
    service: () => runService(file, format, test),
    duckdb: () => runDuckdb(file, format, test),
    node: () => format === 'csv' ? runNodeCsvLoop(file, test) : runNodeLoop(file, test),
    jq: () => runJq(file, test)
  }
  process.stdout.write(JSON.stringify(await runs[contestant]()) + '\n')
}

function measure (contestant: string, file: string, format: 'ndjson' | 'csv', key: string): Promise<Measurement[]> {
  const script = fileURLToPath(import.meta.url)
  return new Promise((resolvePromise, reject) => {
    const proc = spawn(process.execPath, [script, '--child', contestant, '--file', file, '--format', format, '--case', key], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    proc.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
    proc.on('close', (code) => code === 0 ? resolvePromise(JSON.parse(out) as Measurement[]) : reject(new Error(`${contestant} ${format} exited with ${code}`)))
  })
}

async function main (): Promise<void> {
  const program = new Command()
    .option('--records <n>', 'records in the generated files', (v) => Number.parseInt(v, 10), 2_000_000)
    .option('--only <names>', 'comma-separated contestants: parascan,service,duckdb,jq,node', 'parascan,service,duckdb,jq,node')
    .option('--cases <keys>', 'comma-separated predicates: selective,numeric,most', CASES.map((c) => c.key).join(','))
    .option('--big', 'also scan a 2 GB NDJSON file with parascan (selective predicate)', false)
    .option('--quoted', 'also scan a CSV file whose text fields are all quoted, with parascan and DuckDB (selective predicate)', false)
    .option('--repeat <n>', 'runs of each contestant; the table shows the fastest, and the median in notes', (v) => Number.parseInt(v, 10), 1)
    .option('--child <name>').option('--file <path>').option('--format <format>').option('--case <key>')
    .parse()
  const opts = program.opts<{ records: number, only: string, cases: string, big: boolean, quoted: boolean, repeat: number, child?: string, file?: string, format?: 'ndjson' | 'csv', case?: string }>()
  if (opts.child !== undefined) return child(opts.child, opts.file ?? '', opts.format ?? 'ndjson', opts.case ?? 'selective')

  const only = new Set(opts.only.split(','))
  const cases = CASES.filter((c) => opts.cases.split(',').includes(c.key))
  const files = await generate(opts.records, opts.big, opts.quoted)
  const hasJq = spawnSync('jq', ['--version']).status === 0
  const plan: Array<[string, string, 'ndjson' | 'csv', Case]> = []
  for (const test of cases) {
    for (const format of ['ndjson', 'csv'] as const) {
      const file = format === 'csv' ? files.csv : files.ndjson
      for (const contestant of ['parascan', 'service', 'duckdb', 'node']) if (only.has(contestant)) plan.push([contestant, file, format, test])
      if (format === 'ndjson' && test.key === 'selective' && only.has('jq') && hasJq) plan.push(['jq', file, format, test])
    }
    if (test.key !== 'selective') continue
    if (files.quotedCsv !== undefined) {
      if (only.has('parascan')) plan.push(['parascan', files.quotedCsv, 'csv', test])
      if (only.has('duckdb')) plan.push(['duckdb', files.quotedCsv, 'csv', test])
    }
    if (files.bigNdjson !== undefined) plan.push(['parascan', files.bigNdjson, 'ndjson', test])
  }

  const loadAtStart = loadavg()
  const started = new Date()
  const runs = new Map<string, Measurement[]>()
  for (let round = 0; round < Math.max(1, opts.repeat); round++) {
    for (const [contestant, file, format, test] of plan) {
      for (const m of await measure(contestant, file, format, test.key)) {
        if (file === files.bigNdjson) m.name += ` ${(statSync(file).size / 2 ** 30).toFixed(1)} GiB file`
        if (file === files.quotedCsv) m.name = m.name.replace(' csv', ' quoted csv')
        m.name = `${test.key}: ${m.name}`
        console.error(`${m.name}: ${m.ms.toFixed(0)} ms, CPU ${m.cpuMs ?? 'n/a'} ms, count ${m.count}, peak RSS ${m.rssMb ?? 'n/a'} MB${m.note === undefined ? '' : ', ' + m.note}`)
        runs.set(m.name, [...(runs.get(m.name) ?? []), m])
      }
    }
  }
  const loadAtEnd = loadavg()
  const results: Measurement[] = [...runs.values()].map((all) => {
    const sorted = [...all].sort((a, b) => a.ms - b.ms)
    const best = { ...sorted[0] }
    if (sorted.length > 1) {
      const median = sorted[Math.floor(sorted.length / 2)].ms.toFixed(0)
      best.note = `${best.note === undefined ? '' : best.note + '; '}best of ${sorted.length}, median ${median} ms`
    }
    return best
  })
  const size = (path: string) => `${(statSync(path).size / 2 ** 20).toFixed(0)} MiB`
  const load = (l: number[]) => l.map((v) => v.toFixed(1)).join(' / ')
  console.log(`\n\`npm run bench:files${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''}\` on ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC, Node ${process.version}, 2 shared cores; load average (1 / 5 / 15 min) ${load(loadAtStart)} at the start, ${load(loadAtEnd)} at the end.`)
  console.log(`Files: ${opts.records} events, NDJSON ${size(files.ndjson)}, CSV ${size(files.csv)}; every contestant counts the matching records.`)
  const find = (prefix: string) => results.find((m) => m.name.startsWith(prefix))
  const ratio = (a: number | undefined, b: number | undefined) => a === undefined || b === undefined ? '–' : `${(a / b).toFixed(2)}x`
  const verdicts: string[] = ['| predicate | format | parascan / DuckDB wall | loop / parascan wall | parascan / loop CPU | service / library wall |', '|---|---|---:|---:|---:|---:|']
  for (const test of cases) {
    console.log(`\n### ${test.title}: \`${test.cel}\`\n`)
    console.log('| contestant | wall time (ms) | CPU time (ms) | matched | peak RSS (MB) | notes |')
    console.log('|---|---:|---:|---:|---:|---|')
    for (const m of results.filter((r) => r.name.startsWith(`${test.key}: `))) {
      console.log(`| ${m.name.slice(test.key.length + 2)} | ${m.ms.toFixed(0)} | ${m.cpuMs ?? 'n/a'} | ${m.count} | ${m.rssMb ?? 'n/a'} | ${m.note ?? ''} |`)
    }
    for (const format of ['ndjson', 'csv']) {
      const warm = find(`${test.key}: parascan ${format} (index cached)`)
      const service = find(`${test.key}: parascan service ${format} (index cached)`)
      const duck = find(`${test.key}: DuckDB ${format}`)
      const loop = find(`${test.key}: Node sequential loop ${format}`)
      verdicts.push(`| ${test.key} | ${format} | ${ratio(warm?.ms, duck?.ms)} | ${ratio(loop?.ms, warm?.ms)} | ${ratio(warm?.cpuMs, loop?.cpuMs)} | ${ratio(service?.ms, warm?.ms)} |`)
    }
  }
  console.log('\nRatios with the index cached:\n')
  console.log(verdicts.join('\n'))
  let disagree = false
  for (const test of cases) {
    const counts = new Set(results.filter((m) => m.name.startsWith(`${test.key}: `) && !m.name.includes('GiB')).map((m) => m.count))
    if (counts.size > 1) disagree = true
  }
  if (disagree) {
    console.error('contestants disagree on a count')
    process.exitCode = 1
  }
}

await main()
