/**
 * `npm run bench:engine`: the parallel scan engine against a sequential loop,
 * static partitioning, the thread_pool scheduler and Piscina with fixed
 * chunks, on CPU-bound workloads of calibrated cost, plus the engine's
 * overhead per chunk on no-op work. Prints a markdown table and writes it
 * into docs/benchmarks.md (section "Engine").
 *
 *   node dist/bench/engine.js [--quick] [--no-write]
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs'
import { availableParallelism, cpus, loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { Command } from 'commander'
import { Piscina } from 'piscina'
import { ParallelConfig, WorkStealingPool, type ParallelConfigOptions, type TaskModule, type WorkerMetrics } from '../src/index.js'
import { fetch, process as processRecord, type EngineTaskParams } from '../test/fixtures/engine-task.js'

const program = new Command()
  .option('--quick', 'smaller workloads, one run each')
  .option('--no-write', 'do not update docs/benchmarks.md')
  .option('--only <text>', 'only the workloads whose name contains this text')
  .parse()
const opts = program.opts<{ quick?: boolean, write: boolean, only?: string }>()
const loadAtStart = loadavg()[0]
const quick = opts.quick === true
const scale = quick ? 0.2 : 1
const repeats = quick ? 1 : 3

const taskModule = new URL('../test/fixtures/engine-task.js', import.meta.url)
const config = new ParallelConfig()
const workers = config.max_workers

/** Spin iterations per nanosecond, measured through the same fetch/process path the plain loop uses. */
function calibrate (): number {
  const perRecordNs = (spins: number): number => {
    const w: Workload = { name: 'calibration', total: 200_000, params: task({ spin: spins }) }
    sequential(w)
    let best = Infinity
    for (let i = 0; i < 5; i++) best = Math.min(best, sequential(w).ms)
    return best * 1e6 / w.total
  }
  const base = perRecordNs(0)
  return 2000 / Math.max(1e-3, perRecordNs(2000) - base)
}

interface Workload { name: string, total: number, params: EngineTaskParams }
let itersPerNs = 1
const spinFor = (ns: number): number => Math.max(1, Math.round(ns * itersPerNs))
const workloads: Workload[] = []
const n = (records: number): number => Math.round(records * scale)
/** Every workload's params have the same keys in the same order, so no call site turns polymorphic between workloads. */
function task (params: EngineTaskParams): EngineTaskParams {
  return { spin: params.spin ?? 0, shape: params.shape ?? 'uniform', total: 0, keepEvery: params.keepEvery ?? 0, result: params.result ?? 'number', blockAt: params.blockAt ?? -1, blockMs: params.blockMs ?? 0 }
}
/** The record that blocks its thread for BLOCK_MS in the blocked workload (in the first chunk of the first thread). */
const BLOCK_MS = 1000
const BLOCKED = 'one record in the first chunk blocks 1 s (2 µs)'
function defineWorkloads (): Workload[] {
  return [
    { name: 'uniform cheap (100 ns)', total: n(8_000_000), params: task({ spin: spinFor(100) }) },
    { name: 'uniform expensive (10 µs)', total: n(100_000), params: task({ spin: spinFor(10_000) }) },
    { name: 'Pareto (α 1.5, mean ~2 µs)', total: n(500_000), params: task({ spin: spinFor(2_000), shape: 'pareto' }) },
    { name: 'hotspot 5% ×100 at start', total: n(150_000), params: task({ spin: spinFor(1_000), shape: 'hot-start' }) },
    { name: 'hotspot 5% ×100 in middle', total: n(150_000), params: task({ spin: spinFor(1_000), shape: 'hot-middle' }) },
    { name: 'hotspot 5% ×100 at end', total: n(150_000), params: task({ spin: spinFor(1_000), shape: 'hot-end' }) },
    { name: 'ramp (0 → 4 µs)', total: n(500_000), params: task({ spin: spinFor(2_000), shape: 'ramp' }) },
    { name: 'half the records as results (200 ns)', total: n(3_000_000), params: task({ spin: spinFor(200), keepEvery: 2, result: 'object' }) },
    { name: BLOCKED, total: n(1_000_000), params: task({ spin: spinFor(2_000), blockAt: 10, blockMs: BLOCK_MS }) }
  ]
}

interface Run { ms: number, count: number, p99: number | null, steals: number | null, cpuMs?: number }

/** Wall time of `run` with the process's CPU time (every thread) beside it. */
async function timed (run: () => Promise<Run> | Run): Promise<Run> {
  const cpu = globalThis.process.cpuUsage()
  const result = await run()
  const used = globalThis.process.cpuUsage(cpu)
  return { ...result, cpuMs: (used.user + used.system) / 1000 }
}

function percentile (values: number[], q: number): number {
  const sorted = values.slice().sort((a, b) => a - b)
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? 0
}

function sequential (w: Workload, chunk = 4096): Run {
  const start = performance.now()
  const results: unknown[] = []
  const times: number[] = []
  for (let offset = 0; offset < w.total; offset += chunk) {
    const t = performance.now()
    const count = Math.min(chunk, w.total - offset)
    const records = fetch(offset, count, w.params) as number[]
    for (let i = 0; i < count; i++) {
      const value = processRecord(records[i], w.params, offset + i)
      if (value !== null && value !== undefined) results.push(value)
    }
    times.push(performance.now() - t)
  }
  return { ms: performance.now() - start, count: results.length, p99: percentile(times, 0.99), steals: null }
}

async function engine (pool: WorkStealingPool, w: Workload, overrides: ParallelConfigOptions = {}): Promise<Run> {
  const finals: WorkerMetrics[] = []
  const start = performance.now()
  const results = await pool.scan(w.total, { module: taskModule, params: w.params }, {
    config: overrides,
    metrics: (event, data) => { if (event === 'final_worker') finals.push(data as WorkerMetrics) }
  })
  return {
    ms: performance.now() - start,
    count: results.length,
    p99: Math.max(...finals.map(f => f.p99_ms)),
    steals: finals.reduce((s, f) => s + f.steals_successful, 0)
  }
}

async function piscina (pool: Piscina, w: Workload, chunk: number): Promise<Run> {
  const start = performance.now()
  const tasks: Array<Promise<{ results: unknown[], ms: number }>> = []
  for (let offset = 0; offset < w.total; offset += chunk) {
    tasks.push(pool.run({ offset, count: Math.min(chunk, w.total - offset), params: w.params }))
  }
  const done = await Promise.all(tasks)
  const results: unknown[] = []
  for (const part of done) for (const value of part.results) results.push(value)
  return { ms: performance.now() - start, count: results.length, p99: percentile(done.map(d => d.ms), 0.99), steals: null }
}

async function best (run: () => Promise<Run> | Run): Promise<Run> {
  let top: Run | undefined
  for (let i = 0; i < repeats; i++) {
    const r = await run()
    if (top === undefined || r.ms < top.ms) top = r
  }
  return top as Run
}

itersPerNs = calibrate()
workloads.push(...defineWorkloads())
for (const w of workloads) w.params.total = w.total
if (opts.only !== undefined) workloads.splice(0, workloads.length, ...workloads.filter(w => w.name.includes(opts.only as string)))

const pool = new WorkStealingPool({ config })
const piscinaPool = new Piscina({ filename: new URL('./piscina-scan-task.js', import.meta.url).href, minThreads: workers, maxThreads: workers, idleTimeout: 60_000 })

const lines: string[] = []
const fmt = (v: number | null, digits = 2): string => v === null ? '–' : v.toFixed(digits)
lines.push('| workload | contestant | ms | CPU ms | speedup | vs best Piscina | efficiency | p99 chunk ms | steals |')
lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|')
const blockedLines: string[] = []
const verdicts: string[] = []

await engine(pool, { name: 'warm-up', total: 100_000, params: task({ spin: 1, keepEvery: 1 }) })
for (const w of workloads) {
  const runners: Array<[string, () => Promise<Run> | Run]> = [
    ['sequential loop (1 thread)', () => sequential(w)],
    [`static partitioning (${workers} ranges)`, async () => await piscina(piscinaPool, w, Math.ceil(w.total / workers))],
    ...[512, 4096, 32768].map((chunk): [string, () => Promise<Run>] => [`Piscina, chunks of ${chunk}`, async () => await piscina(piscinaPool, w, chunk)]),
    ['parascan thread_pool', async () => await engine(pool, w, { scheduler: 'thread_pool' })],
    ['**parascan work_stealing**', async () => await engine(pool, w)]
  ]
  const bestRuns = new Map<string, Run>()
  for (let r = 0; r < repeats; r++) {
    for (const [label, run] of runners) {
      const result = await timed(run)
      const top = bestRuns.get(label)
      if (top === undefined || result.ms < top.ms) bestRuns.set(label, result)
    }
  }
  const contestants = runners.map(([label]): [string, Run] => [label, bestRuns.get(label) as Run])
  const seq = contestants[0][1]
  const bestPiscina = Math.min(...contestants.filter(([l]) => l.startsWith('Piscina')).map(([, r]) => r.ms))
  for (const [label, run] of contestants) {
    if (run.count !== seq.count) throw new Error(`${w.name} / ${label}: ${run.count} results, sequential gave ${seq.count}`)
    const speedup = seq.ms / run.ms
    lines.push(`| ${w.name} | ${label} | ${run.ms.toFixed(0)} | ${fmt(run.cpuMs ?? null, 0)} | ${speedup.toFixed(2)}x | ${(bestPiscina / run.ms).toFixed(2)}x | ${(speedup / workers * 100).toFixed(0)}% | ${fmt(run.p99)} | ${run.steals ?? '–'} |`)
  }
  const ws = contestants.at(-1)![1]
  if (w.name === BLOCKED) {
    // The blocked record holds one thread for BLOCK_MS; the rest of the work (the sequential time, which includes the block) spread evenly cannot end sooner.
    const ideal = Math.max(BLOCK_MS, seq.ms / workers)
    blockedLines.push(
      `Blocked record (${w.total} records of ~2 µs, record 10 blocks its thread for ${BLOCK_MS} ms): an ideal schedule finishes at max(${BLOCK_MS} ms, sequential time / ${workers} threads) = ${ideal.toFixed(0)} ms.`,
      '',
      '| contestant | ms | × ideal |',
      '|---|---:|---:|',
      ...contestants.map(([label, run]) => `| ${label} | ${run.ms.toFixed(0)} | ${(run.ms / ideal).toFixed(2)} |`),
      ''
    )
    verdicts.push(`- ${w.name}: work_stealing finished in ${(ws.ms / ideal).toFixed(2)}x the ideal schedule (${ws.ms.toFixed(0)} vs ${ideal.toFixed(0)} ms); best Piscina ${(bestPiscina / ideal).toFixed(2)}x`)
    console.error(`done: ${w.name}`)
    continue
  }
  verdicts.push(`- ${w.name}: ${(seq.ms / ws.ms).toFixed(2)}x sequential; ${ws.ms <= bestPiscina ? 'at least as fast as' : 'slower than'} the best Piscina run (${ws.ms.toFixed(0)} vs ${bestPiscina.toFixed(0)} ms)`)
  console.error(`done: ${w.name}`)
}

/*
 * The built-in scan task on uniform cheap work: a range source and one CEL filter that keeps one
 * record in 64, against a loop in this thread over the same task module (fetch 4096 records at a
 * time, results handed over as the engine hands them over: collect), and against that same loop
 * on fixed halves in plain threads (static partitioning, no engine: what the hardware gives).
 */
const pipelineLines: string[] = []
if (opts.only === undefined || 'built-in pipeline'.includes(opts.only)) {
  const { planScan } = await import('../src/pipeline/index.js')
  const { scanRequestSchema } = await import('../schemas/scan-request.js')
  const { loopRange } = await import('./builtin-loop.js')
  // 32 M records (~0.9 s of loop on a quiet core): long enough that starting a scan is not what is measured.
  const total = n(32_000_000)
  const staticPool = new Piscina({ filename: new URL('./piscina-builtin-task.js', import.meta.url).href, minThreads: workers, maxThreads: workers, idleTimeout: 60_000 })
  /** Best and every run of the three contestants on one filter. */
  const race = async (filter: string): Promise<{ labels: string[], bestRuns: Run[], allRuns: Run[][] }> => {
    const plan = await planScan(scanRequestSchema.parse({ source: { type: 'range', start: 0, end: total }, pipeline: [{ filter }] }), { dataDir: globalThis.process.cwd() })
    const moduleUrl = String(plan.task.module)
    const scanTask = await import(moduleUrl) as TaskModule
    const params = plan.task.params
    const loop = (): Run => {
      const start = performance.now()
      const results: unknown[] = []
      loopRange(scanTask, params, 0, total, results)
      return { ms: performance.now() - start, count: results.length, p99: null, steals: null }
    }
    const split = async (): Promise<Run> => {
      const start = performance.now()
      const parts = await Promise.all(Array.from({ length: workers }, async (_, i) => await staticPool.run({
        module: moduleUrl, params, lo: Math.floor(i * total / workers), hi: Math.floor((i + 1) * total / workers)
      }) as string))
      const results: unknown[] = []
      for (const part of parts) for (const value of JSON.parse(part) as unknown[]) results.push(value)
      return { ms: performance.now() - start, count: results.length, p99: null, steals: null }
    }
    const parallel = async (): Promise<Run> => {
      const start = performance.now()
      const results = await pool.scan(total, plan.task, {})
      return { ms: performance.now() - start, count: results.length, p99: null, steals: null }
    }
    const contestants: Array<[string, () => Promise<Run> | Run]> = [
      ['sequential loop (1 thread)', loop],
      [`static partitioning (${workers} plain threads, no engine)`, split],
      ['**parascan work_stealing**', parallel]
    ]
    for (const [, run] of contestants) await run()
    const bestRuns: Run[] = []
    const allRuns: Run[][] = contestants.map(() => [])
    for (let r = 0; r < repeats; r++) {
      for (const [i, [, run]] of contestants.entries()) {
        const result = await timed(run)
        allRuns[i].push(result)
        if (bestRuns[i] === undefined || result.ms < bestRuns[i].ms) bestRuns[i] = result
      }
    }
    if (bestRuns.some((run) => run.count !== bestRuns[0].count)) throw new Error(`the built-in pipeline runs of ${filter} disagree on the count`)
    return { labels: contestants.map(([label]) => label), bestRuns, allRuns }
  }
  const filter = 'record % 64 == 0'
  const kept = await race(filter)
  await staticPool.destroy()
  const cpuOf = (run: Run): number => run.cpuMs ?? run.ms
  const table = ({ labels, bestRuns, allRuns }: Awaited<ReturnType<typeof race>>): string[] => {
    const seqCpu = cpuOf(bestRuns[0])
    return [
      '| contestant | ms | CPU ms | ns per record | speedup | CPU / loop CPU | all runs (wall/CPU ms) |',
      '|---|---:|---:|---:|---:|---:|---|',
      ...labels.map((label, i) => {
        const run = bestRuns[i]
        return `| ${label} | ${run.ms.toFixed(0)} | ${cpuOf(run).toFixed(0)} | ${(run.ms * 1e6 / total).toFixed(1)} | ${(bestRuns[0].ms / run.ms).toFixed(2)}x | ${(cpuOf(run) / seqCpu).toFixed(2)} | ${allRuns[i].map((r) => `${r.ms.toFixed(0)}/${cpuOf(r).toFixed(0)}`).join(', ')} |`
      })
    ]
  }
  const [seq, split, par] = kept.bestRuns
  const touch = firstTouch()
  pipelineLines.push(
    `The built-in scan task (\`workers/scan-task.js\`, what every service scan runs) on uniform cheap work: a \`range\` source of ${total} records and the filter \`${filter}\` (${seq.count} results), against a loop in the calling thread over the same task's \`fetch\` (4096 records at a time) and \`collect\`, and against the same loop on fixed halves in ${workers} plain threads (static partitioning, no engine). Best of ${repeats} by wall time; every run's wall/CPU ms in the last column:`,
    '',
    ...table(kept),
    '',
    `The ${workers} engine threads spent ${(cpuOf(par) / cpuOf(seq)).toFixed(2)}x the loop's CPU time on the same records (static partitioning ${(cpuOf(split) / cpuOf(seq)).toFixed(2)}x), so with ${workers} free cores they could reach at most ${(workers * cpuOf(seq) / cpuOf(par)).toFixed(2)}x.`,
    '',
    `Results handed over cost the engine more than the loop: pages of JSON from ${workers} threads, taken in, parsed and joined by the calling thread, all in fresh memory, and on this machine the first write to a 4 KiB page costs ${touch.first.toFixed(1)} µs (a second write ${touch.second.toFixed(2)} µs).`,
    ''
  )
  verdicts.push(`- built-in pipeline, uniform cheap (${(seq.ms * 1e6 / total).toFixed(0)} ns a record): ${(seq.ms / par.ms).toFixed(2)}x sequential (static partitioning in plain threads: ${(seq.ms / split.ms).toFixed(2)}x)`)
  console.error('done: built-in pipeline')
}

/** Microseconds of the first and of a second write to each 4 KiB page of 64 MiB the process never touched (best of 3). */
function firstTouch (): { first: number, second: number } {
  let first = Infinity
  let second = Infinity
  const pages = 16_384
  for (let r = 0; r < 3; r++) {
    const bytes = Buffer.allocUnsafeSlow(pages * 4096)
    let t = performance.now()
    for (let i = 0; i < bytes.length; i += 4096) bytes[i] = 1
    first = Math.min(first, (performance.now() - t) * 1000 / pages)
    t = performance.now()
    for (let i = 0; i < bytes.length; i += 4096) bytes[i] = 2
    second = Math.min(second, (performance.now() - t) * 1000 / pages)
  }
  return { first, second }
}

const chunk = 128
const noop: Workload = { name: 'no-op', total: 8_000_000, params: task({}) }
sequential(noop, chunk)
const plain = await best(() => sequential(noop, chunk))
const fixed: ParallelConfigOptions = { min_chunk_size: chunk, max_chunk_size: chunk, initial_chunk_size: chunk }
const chunks = Math.ceil(noop.total / chunk)
const overhead: string[] = ['| engine run | ms | overhead per chunk µs |', '|---|---:|---:|', `| plain loop, chunks of ${chunk} | ${plain.ms.toFixed(1)} | – |`]
for (const [label, over, threads] of [
  ['sequential scheduler (calling thread)', { ...fixed, scheduler: 'sequential' }, 1],
  ['work_stealing, 1 thread', { ...fixed, max_workers: 1 }, 1],
  [`work_stealing, ${workers} threads (CPU time)`, fixed, workers]
] as Array<[string, ParallelConfigOptions, number]>) {
  await engine(pool, noop, over)
  const run = await best(async () => await engine(pool, noop, over))
  overhead.push(`| ${label} | ${run.ms.toFixed(1)} | ${((run.ms * threads - plain.ms) * 1000 / chunks).toFixed(3)} |`)
}

await pool.close()
await piscinaPool.destroy()

const command = `npm run bench:engine${quick ? ' -- --quick' : ''}`
const cpu = cpus()[0]?.model ?? 'unknown CPU'
const section = [
  '## Engine',
  '',
  `\`${command}\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, Node ${globalThis.process.version}, ${availableParallelism()} cores (${cpu}), ${workers} worker threads, default ParallelConfig.`,
  `Best of ${repeats} interleaved run${repeats > 1 ? 's' : ''}; spin calibrated at ${itersPerNs.toFixed(2)} iterations/ns.`,
  'Every contestant returns the same results to the main thread (checked). Speedup is over the sequential loop; efficiency is speedup / threads.',
  'p99 chunk ms is over chunks (Piscina: tasks; static: one range per thread). CPU ms is the process\'s CPU time (all threads) during that run; "vs best Piscina" is the best fixed-chunk Piscina time over this contestant\'s (above 1.00x: faster). Every ratio comes from runs taken side by side in this one invocation.',
  `1-minute load average ${loadAtStart.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end: above ~0.5 other work shares the cores and every parallel contestant loses alike.`,
  '',
  lines.join('\n'),
  '',
  ...blockedLines,
  ...pipelineLines,
  'Against the targets (≥ 1.85x sequential on CPU-bound workloads with few results; at least as fast as the best fixed-chunk Piscina run):',
  '',
  verdicts.join('\n'),
  '',
  `Overhead per chunk on no-op work (process returns null, fixed chunks of ${chunk} records, ${chunks} chunks): (engine time × threads − plain loop time) / chunks.`,
  '',
  overhead.join('\n'),
  ''
].join('\n')
console.log(section)

if (opts.write) {
  const file = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url))
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n'
  const start = current.indexOf('\n## Engine\n')
  let next: string
  if (start === -1) {
    next = `${current.trimEnd()}\n\n${section}`
  } else {
    const end = current.indexOf('\n## ', start + 1)
    next = current.slice(0, start + 1) + section + (end === -1 ? '' : current.slice(end))
  }
  writeFileSync(file, next)
}
