import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ServiceMetrics, durationBuckets } from '../../src/metrics/service-metrics.js'

test('scan-duration buckets end at the scan timeout, whatever it is', () => {
  assert.deepEqual(durationBuckets(3600).slice(-4), [600, 900, 1800, 3600])
  assert.deepEqual(durationBuckets(45), [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 45])
  assert.equal(durationBuckets(86400 * 7).at(-1), 86400 * 7)
  for (const limit of [0.5, 1, 59, 3600, 7201]) {
    const buckets = durationBuckets(limit)
    assert.equal(buckets.at(-1), limit)
    assert.ok(buckets.every((bucket, i) => i === 0 || bucket > buckets[i - 1]), `${limit}: increasing`)
  }
})

test('the scan-duration histogram carries the outcome and stops at the configured timeout', async () => {
  const metrics = new ServiceMetrics({ scanTimeoutMs: 120_000 })
  metrics.scanDuration.observe({ outcome: 'succeeded' }, 0.2)
  metrics.scanDuration.observe({ outcome: 'failed' }, 119)
  metrics.scanDuration.observe({ outcome: 'cancelled' }, 30)
  const text = await metrics.registry.metrics()
  const les = [...text.matchAll(/^parascan_scan_duration_seconds_bucket\{le="([^"]+)",outcome="failed"\} (\d+)/gm)]
  assert.deepEqual(les.slice(-2).map((m) => m[1]), ['120', '+Inf'])
  assert.equal(les.find((m) => m[1] === '60')?.[2], '0')
  assert.equal(les.find((m) => m[1] === '120')?.[2], '1')
  for (const outcome of ['succeeded', 'failed', 'cancelled']) assert.match(text, new RegExp(`^parascan_scan_duration_seconds_count\\{outcome="${outcome}"\\} 1$`, 'm'))
})
