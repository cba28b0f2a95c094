import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { validate } from 'dockerfile-utils'
import { startServer } from '../../src/server.js'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../../../', import.meta.url))
const read = (path: string): string => readFileSync(root + path, 'utf8')

const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'and', 'or', 'unless', 'inf', 'nan'])

/** Metric names a PromQL expression reads: identifiers left after label matchers, ranges, strings and grouping clauses are removed, and that are not functions. */
function metricNames (expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ')
  const names = new Set<string>()
  for (const match of bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const after = bare.slice(match.index + match[0].length).trimStart()
    if (after.startsWith('(') || PROMQL_WORDS.has(match[0].toLowerCase())) continue
    names.add(match[0])
  }
  return [...names]
}

/** Every series name an exposition offers: counters and gauges by name, histograms and summaries by their sample suffixes. */
function exposedNames (exposition: string): Set<string> {
  const names = new Set<string>()
  for (const [, name, type] of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix)
    else if (type === 'summary') for (const suffix of ['', '_sum', '_count']) names.add(name + suffix)
    else names.add(name)
  }
  return names
}

interface Panel { title?: string, type: string, targets?: Array<{ expr?: string }>, panels?: Panel[], datasource?: { uid?: string } }

function dashboardQueries (): Array<{ where: string, expr: string }> {
  const dashboard = JSON.parse(read('docker/grafana/dashboards/parascan.json')) as { panels: Panel[], templating: { list: Array<{ name: string, type: string, query: string | { query: string } }> } }
  const queries: Array<{ where: string, expr: string }> = []
  const visit = (panel: Panel): void => {
    for (const target of panel.targets ?? []) if (target.expr !== undefined) queries.push({ where: `panel "${panel.title}"`, expr: target.expr })
    for (const child of panel.panels ?? []) visit(child)
  }
  dashboard.panels.forEach(visit)
  for (const variable of dashboard.templating.list.filter((v) => v.type !== 'datasource')) {
    const query = typeof variable.query === 'string' ? variable.query : variable.query.query
    const inner = /^label_values\((.*),\s*\w+\)$/.exec(query)
    queries.push({ where: `variable $${variable.name}`, expr: inner === null ? query : inner[1] })
  }
  return queries
}

test('metricNames finds the metrics of PromQL expressions and nothing else', () => {
  assert.deepEqual(metricNames('histogram_quantile(0.95, sum by (worker_id, le) (rate(parascan_chunk_duration_seconds_bucket{instance=~"$instance", job="x"}[$__rate_interval])))'),
    ['parascan_chunk_duration_seconds_bucket'])
  assert.deepEqual(metricNames('sum(rate(a_total[5m])) / on (instance) group_left b_info or vector(0)').sort(), ['a_total', 'b_info'])
  assert.deepEqual(metricNames('max by (state) (parascan_queue_jobs)'), ['parascan_queue_jobs'])
})

test('the Dockerfile passes dockerfile-utils lint and keeps the image conventions', async () => {
  const dockerfile = read('Dockerfile')
  assert.deepEqual(validate(dockerfile).map((d) => `${d.range.start.line + 1}: ${d.message}`), [])
  await run(process.execPath, [root + 'node_modules/dockerfile-utils/bin/dockerfile-utils', 'lint', root + 'Dockerfile'])
  assert.ok(validate('FROM node\nEXPOSE abc\n').length > 0, 'the linter reports a bad Dockerfile')

  const stages = [...dockerfile.matchAll(/^FROM (\S+) AS (\w+)$/gm)]
  assert.deepEqual(stages.map((m) => m[1]), ['${NODE_IMAGE}', '${NODE_IMAGE}'])
  assert.match(dockerfile, /^ARG NODE_IMAGE=node:(22|24)[\w.-]*-slim$/m)
  const runtime = dockerfile.slice(stages[1].index)
  assert.match(runtime, /npm ci --omit=dev --omit=optional --ignore-scripts/)
  assert.match(runtime, /^COPY --from=build \/app\/dist \.\/dist$/m)
  assert.match(runtime, /^USER [1-9]\d*(:\d+)?$/m, 'a numeric non-root user')
  assert.match(runtime, /^EXPOSE 3000$/m)
  assert.match(runtime, /HEALTHCHECK[^\n]*\\\n\s+CMD \["node", "-e", ".*\/healthz/)
  assert.match(runtime, /^CMD \["node", "dist\/src\/main\.js"\]$/m, 'exec form, so node receives SIGTERM')
  const ignored = read('.dockerignore')
  assert.match(ignored, /^\*\*$/m, '.dockerignore sends only what the build needs')
  assert.match(ignored, /^!examples\/\*\*$/m, 'the example plug-in is built into the image')
  assert.match(runtime, /^COPY --from=build \/app\/dist\/examples\/processors\/redact-fields\.js \/processors\/$/m)
  assert.match(runtime, /^COPY examples\/processors\/package\.json \/processors\/$/m)
  assert.match(runtime, /^ENV PARASCAN_PROCESSORS_DIR=\/processors$/m)
  assert.match(read('docker/compose.yml'), /^ {6}- \$\{PARASCAN_PROCESSORS:-processors\}:\/processors:ro$/m, 'compose mounts a processors volume')
})

test('docker-compose accepts docker/compose.yml', async (t) => {
  const binary = await run('docker-compose', ['version', '--short']).then(() => 'docker-compose', () => undefined)
  if (binary === undefined) {
    t.skip('docker-compose is not installed (apt-get install docker-compose); compose file not validated')
    return
  }
  const { stdout } = await run(binary, ['-f', root + 'docker/compose.yml', 'config'], { env: { ...process.env, PARASCAN_DATA_DIR: '/tmp' } })
  assert.match(stdout, /redis-server[\s\S]*--appendonly[\s\S]*'?yes'?[\s\S]*--maxmemory-policy[\s\S]*noeviction/)
  assert.match(stdout, /PARASCAN_REDIS_URL: redis:\/\/redis:6379/)
  assert.match(stdout, /replicas: 2/)
  assert.match(stdout, new RegExp(`build:\\s+context: ${root.replace(/\/$/, '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+dockerfile: Dockerfile`), 'replicas run the image of the Dockerfile at the repository root')
  const invalid = join(mkdtempSync(join(tmpdir(), 'parascan-compose-')), 'compose.yml')
  writeFileSync(invalid, 'services:\n  x:\n    imagee: redis\n')
  await assert.rejects(run(binary, ['-f', invalid, 'config']), 'an invalid compose file is refused')
})

test('Prometheus scrapes the parascan service and Grafana reads that Prometheus', () => {
  const prometheus = read('docker/prometheus.yml')
  assert.match(prometheus, /job_name: parascan[\s\S]*names: \[parascan\][\s\S]*port: 3000/)
  const datasource = read('docker/grafana/provisioning/datasources/prometheus.yml')
  assert.match(datasource, /uid: prometheus\n[\s\S]*url: http:\/\/prometheus:9090/)
  const compose = read('docker/compose.yml')
  assert.match(compose, /\.\/grafana\/dashboards:\/var\/lib\/grafana\/dashboards/)
  assert.match(read('docker/grafana/provisioning/dashboards/parascan.yml'), /path: \/var\/lib\/grafana\/dashboards/)
  const dashboard = JSON.parse(read('docker/grafana/dashboards/parascan.json')) as { uid: string, panels: Array<Panel & { id: number, gridPos: { x: number, y: number, w: number, h: number } }> }
  assert.equal(dashboard.uid, 'parascan')
  for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) assert.equal(panel.datasource?.uid, '${DS_PROMETHEUS}', panel.title)
  assert.equal(new Set(dashboard.panels.map((p) => p.id)).size, dashboard.panels.length, 'panel ids are unique')
  const cells = new Set<string>()
  for (const { title, gridPos: { x, y, w, h } } of dashboard.panels) {
    assert.ok(x >= 0 && w > 0 && x + w <= 24, `${title} fits the 24-column grid`)
    for (let row = y; row < y + h; row++) {
      for (let column = x; column < x + w; column++) {
        assert.ok(!cells.has(`${row}:${column}`), `${title} overlaps another panel`)
        cells.add(`${row}:${column}`)
      }
    }
  }
})

/** Every `datasource` object anywhere in a dashboard. */
function datasourceRefs (value: unknown, where = '$'): Array<{ where: string, ref: unknown }> {
  if (Array.isArray(value)) return value.flatMap((item, i) => datasourceRefs(item, `${where}[${i}]`))
  if (typeof value !== 'object' || value === null) return []
  return Object.entries(value).flatMap(([key, child]) => [
    ...(key === 'datasource' ? [{ where: `${where}.${key}`, ref: child }] : []),
    ...datasourceRefs(child, `${where}.${key}`)
  ])
}

test('the Grafana dashboard imports into any Grafana: the datasource is the input ${DS_PROMETHEUS}, also a variable when provisioned', () => {
  const text = read('docker/grafana/dashboards/parascan.json')
  const dashboard = JSON.parse(text) as { __inputs: Array<Record<string, string>>, __requires: Array<Record<string, string>>, templating: { list: Array<Record<string, unknown>> } }
  assert.deepEqual(dashboard.__inputs.map(({ name, type, pluginId }) => ({ name, type, pluginId })), [{ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' }])
  assert.ok(dashboard.__requires.some((r) => r.type === 'datasource' && r.id === 'prometheus'))
  const variable = dashboard.templating.list.find((v) => v.name === 'DS_PROMETHEUS')
  assert.deepEqual({ type: variable?.type, query: variable?.query }, { type: 'datasource', query: 'prometheus' }, 'a provisioned copy (no import step) resolves ${DS_PROMETHEUS} through this variable')
  const refs = datasourceRefs(dashboard).filter(({ where }) => !where.startsWith('$.__'))
  assert.ok(refs.length >= 40, `${refs.length} datasource references`)
  for (const { where, ref } of refs) assert.deepEqual(ref, { type: 'prometheus', uid: '${DS_PROMETHEUS}' }, where)

  // What Grafana's import does: every ${DS_PROMETHEUS} becomes the uid of the datasource picked for the input.
  const imported = JSON.parse(text.replaceAll('${DS_PROMETHEUS}', 'b3f1c-any-uid')) as unknown
  assert.ok(!JSON.stringify(imported).includes('${DS_'), 'no input left unresolved')
  for (const { where, ref } of datasourceRefs(imported).filter(({ where }) => !where.startsWith('$.__'))) assert.deepEqual(ref, { type: 'prometheus', uid: 'b3f1c-any-uid' }, where)
})

const promtool = (): Promise<string | undefined> => run('promtool', ['--version']).then(() => 'promtool', () => undefined)

test('promtool accepts docker/prometheus.yml and docker/alerts.yml, and the alert rules pass their unit tests', async (t) => {
  const binary = await promtool()
  if (binary === undefined) {
    t.skip('promtool is not installed (apt-get install prometheus; .ci/run does): alert rules not checked')
    return
  }
  const docker = root + 'docker/'
  const config = await run(binary, ['check', 'config', 'prometheus.yml'], { cwd: docker })
  assert.match(config.stdout + config.stderr, /SUCCESS: 1 rule files found/)
  const rules = await run(binary, ['check', 'rules', 'alerts.yml'], { cwd: docker })
  assert.match(rules.stdout + rules.stderr, /SUCCESS: [1-9]\d* rules found/)
  const unit = await run(binary, ['test', 'rules', 'alerts.test.yml'], { cwd: docker })
  assert.match(unit.stdout + unit.stderr, /SUCCESS/)
  const alerts = read('docker/alerts.yml')
  const names = [...alerts.matchAll(/^\s+- alert: (\w+)$/gm)].map((m) => m[1])
  const tested = new Set([...read('docker/alerts.test.yml').matchAll(/alertname: (\w+)/g)].map((m) => m[1]))
  assert.deepEqual(names.filter((name) => !tested.has(name)), [], 'every alert has a unit test')

  const broken = join(mkdtempSync(join(tmpdir(), 'parascan-rules-')), 'alerts.yml')
  writeFileSync(broken, alerts.replace('expr: up{job="parascan"} == 0', 'expr: up{job="parascan" == 0'))
  await assert.rejects(run(binary, ['check', 'rules', broken]), 'promtool refuses a broken rule')
})

function alertQueries (): Array<{ where: string, expr: string }> {
  return [...read('docker/alerts.yml').matchAll(/^\s+- alert: (\w+)\n\s+expr: (.+)$/gm)].map((m) => ({ where: `alert ${m[1]}`, expr: m[2] }))
}

test('every metric and grouping label the dashboard queries is one that GET /metrics exports after a scan', async () => {
  const server = await startServer({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', PROTO_PARALLEL_MAX_WORKERS: '2' })
  let exposition: string
  try {
    const submitted = await fetch(server.url + '/v1/scans', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ source: { type: 'range', start: 0, end: 200_000 }, pipeline: [{ filter: 'record % 2 == 0' }], parallel: { max_workers: 2 } })
    })
    assert.equal(submitted.status, 202)
    const { id } = await submitted.json() as { id: string }
    for (let status = ''; status !== 'succeeded';) {
      status = ((await (await fetch(`${server.url}/v1/scans/${id}`)).json()) as { status: string }).status
      assert.ok(status !== 'failed' && status !== 'cancelled', status)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    const response = await fetch(server.url + '/metrics')
    assert.equal(response.status, 200)
    exposition = await response.text()
  } finally {
    await server.close()
  }
  const exported = exposedNames(exposition)
  const labels = sampleLabels(exposition)
  const alerts = alertQueries()
  assert.ok(alerts.length >= 5)
  const queries = [...dashboardQueries(), ...alerts]
  assert.ok(queries.length >= 25)
  exported.add('up')
  const used = new Set<string>()
  for (const { where, expr } of queries) {
    const names = metricNames(expr)
    assert.ok(names.length > 0, `${where} reads no metric: ${expr}`)
    for (const name of names) {
      assert.ok(exported.has(name), `${where} queries ${name}, which /metrics does not export`)
      used.add(name)
    }
    for (const [, list] of expr.matchAll(/\bby\s*\(([^)]*)\)/g)) {
      for (const label of list.split(',').map((text) => text.trim()).filter((text) => !['instance', 'job'].includes(text))) {
        assert.ok(names.some((name) => labels.get(name)?.has(label)), `${where} groups by ${label}, which no sample of ${names.join(', ')} carries`)
      }
    }
  }
  for (const required of ['parascan_chunk_duration_seconds_bucket', 'parascan_records_processed_total', 'parascan_steals_attempted_total',
    'parascan_steals_successful_total', 'parascan_lock_contention_events_total', 'parascan_local_queue_depth', 'parascan_queue_jobs',
    'parascan_scans_total', 'parascan_scan_duration_seconds_bucket', 'parascan_http_request_duration_seconds_bucket']) {
    assert.ok(used.has(required), `the dashboard shows ${required}`)
  }
})

/** Label names seen on the samples of each series name. */
function sampleLabels (exposition: string): Map<string, Set<string>> {
  const labels = new Map<string, Set<string>>()
  for (const [, name, body] of exposition.matchAll(/^([A-Za-z_:][A-Za-z0-9_:]*)\{([^}]*)\}/gm)) {
    const set = labels.get(name) ?? new Set<string>()
    for (const [, label] of body.matchAll(/([A-Za-z_][A-Za-z0-9_]*)="/g)) set.add(label)
    labels.set(name, set)
  }
  return labels
}
