import type { ServerResponse } from 'node:http'
import { Readable } from 'node:stream'
import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { scanRequestSchema } from '../../schemas/scan-request.js'
import { resultsPageSchema, scanAcceptedSchema, scanListSchema, scanStatusNameSchema, scanStatusSchema } from '../../schemas/scan-status.js'
import { problemSchema } from '../../schemas/problem.js'
import '../../src/http/api-key-auth.js'
import { prefersNdjson } from '../../src/http/prefers-ndjson.js'
import { singleHeader } from '../../src/http/single-header.js'
import { FINISHED_STATUSES } from '../../src/store/scan-record.js'
import { parseDuration } from '../../src/config/duration.js'

export interface ScanRoutesOptions {
  /**
   * Seconds in the Retry-After header of queued and running scans.
   * @defaultValue 1
   */
  retryAfterSeconds?: number
}

/** Bytes of NDJSON buffered ahead of a slow client before the store is read again. */
const NDJSON_BUFFER_BYTES = 1 << 20

const idParams = z.object({ id: z.string().min(1).max(200).describe('Scan id.') })

const problems = (...codes: number[]): Record<number, typeof problemSchema> =>
  Object.fromEntries(codes.map((code) => [code, problemSchema]))

/** Page sizes of the scan list and of the results: the default and the largest. */
const LIST_LIMIT = { fallback: 100, max: 1000 }
const RESULTS_LIMIT = { fallback: 1000, max: 10_000 }

/** The `limit` query parameter; values above its max become the max. */
const queryLimit = (what: string, limit: { fallback: number, max: number }) => z.string().regex(/^-?\d+$/, 'must be an integer')
  .transform((text) => Math.min(Number(text), limit.max)).optional()
  .describe(`${what}: default ${limit.fallback}; larger values are clamped to ${limit.max}; zero or negative is a 400.`)

export const scanRoutes: FastifyPluginAsyncZod<ScanRoutesOptions> = async (app, options) => {
  const service = app.scans
  const waiters = app.statusWaiters
  const maxWaitMs = app.config.maxStatusWaitMs
  const retryAfter = String(options.retryAfterSeconds ?? 1)
  const links = (id: string): { self: string, results: string } => ({ self: `${app.prefix}/scans/${id}`, results: `${app.prefix}/scans/${id}/results` })
  const withLinks = <T extends { id: string }>(scan: T): T & { links: { self: string, results: string } } => ({ ...scan, links: links(scan.id) })

  // A client that stops reading would hold its download, and with it the server's close, forever.
  const downloads = new Set<ServerResponse>()
  app.addHook('preClose', async () => { for (const response of downloads) response.destroy() })

  app.post('/scans', {
    schema: {
      operationId: 'submitScan',
      tags: ['scans'],
      summary: 'Submit a scan',
      description: 'Validates the scan (CEL expressions are compiled, processors and file paths checked), queues it and answers at once. ' +
        'With an Idempotency-Key header, the same key and body return the first scan; the same key with another body is a 422.',
      headers: z.object({
        'idempotency-key': z.string().min(1).max(255).optional().describe('Makes retries of this request safe. Send it once: the header twice is a 400.')
      }),
      body: scanRequestSchema,
      response: { 202: scanAcceptedSchema, ...problems(400, 401, 413, 415, 422, 429, 503) }
    },
    preValidation: singleHeader('idempotency-key')
  }, async (request, reply) => {
    const accepted = withLinks(await service.submit(request.body, request.headers['idempotency-key'], request.tenant))
    return reply.code(202).header('location', accepted.links.self).send(accepted)
  })

  app.get('/scans', {
    schema: {
      operationId: 'listScans',
      tags: ['scans'],
      summary: 'List recent scans, newest first',
      querystring: z.object({
        status: z.enum(scanStatusNameSchema.options).optional().describe('Only scans in this status.'),
        limit: queryLimit('Page size', LIST_LIMIT)
          .pipe(z.number().int().min(1, 'must be at least 1').optional()),
        cursor: z.string().min(1).optional().describe('next_cursor of the previous page.')
      }),
      response: { 200: scanListSchema, ...problems(400, 401, 429, 503) }
    }
  }, async (request) => {
    const { status, limit, cursor } = request.query
    const page = await service.list({ status, limit: limit ?? LIST_LIMIT.fallback, cursor, tenant: request.tenant })
    return { ...page, items: page.items.map(withLinks) }
  })

  app.get('/scans/:id', {
    schema: {
      operationId: 'getScan',
      tags: ['scans'],
      summary: 'Status, progress and metrics of a scan',
      description: 'While the scan is queued or running, Retry-After says when to poll again. With `wait`, a scan that is queued or ' +
        'running is answered when it finishes (or is deleted: a 404) or when the wait is over, whichever comes first, instead of at once.',
      params: idParams,
      querystring: z.object({
        wait: z.string().max(32).transform((text, context) => {
          const ms = parseDuration(text)
          if (ms === undefined) context.addIssue({ code: 'custom', message: 'must be a duration such as 500ms, 30s or a number of seconds' })
          return Math.min(ms ?? 0, maxWaitMs)
        }).optional().describe(`Longest time to wait for a queued or running scan to finish: \`500ms\`, \`30s\`, or seconds; larger values are cut to ${maxWaitMs / 1000}s (PARASCAN_MAX_STATUS_WAIT); 0 answers at once. Too many waiting requests on the instance is a 503 PARASCAN_TOO_MANY_WAITERS.`)
      }),
      response: { 200: scanStatusSchema, ...problems(400, 401, 404, 429, 503) }
    }
  }, async (request, reply) => {
    const { id } = request.params
    const wait = request.query.wait ?? 0
    // Listening before the first read: a client that leaves during it must not keep a waiter for the whole wait.
    const left = new AbortController()
    const leave = (): void => left.abort()
    if (wait > 0) reply.raw.once('close', leave)
    let document
    try {
      document = await service.status(id, request.tenant)
      if (reply.raw.destroyed || request.raw.destroyed) left.abort()
      if (wait > 0 && !left.signal.aborted && !FINISHED_STATUSES.has(document.status)) {
        await waiters.wait(id, wait, left.signal)
        document = await service.status(id, request.tenant)
      }
    } finally {
      reply.raw.off('close', leave)
    }
    if (!FINISHED_STATUSES.has(document.status)) reply.header('retry-after', retryAfter)
    return withLinks(document)
  })

  app.get('/scans/:id/results', {
    schema: {
      operationId: 'getScanResults',
      tags: ['scans'],
      summary: 'A page of results',
      description: 'Readable while the scan runs. Following next_cursor never skips or repeats an item; `complete` is true on the last ' +
        'page of a finished scan. Results of failed or cancelled scans stay readable and are marked `partial`. If the scan was taken ' +
        'over by another instance after its first page was read, a cursor of the old attempt gets a 409 (read again from the first page). ' +
        'With `Accept: application/x-ndjson`, a finished scan sends every stored result in one response, one JSON value per line ' +
        '(`limit` and `cursor` do not apply; a scan that is still queued or running is a 409).',
      params: idParams,
      querystring: z.object({
        limit: queryLimit('Items per page', RESULTS_LIMIT)
          .pipe(z.number().int().min(1, 'must be at least 1').optional()),
        cursor: z.string().min(1).optional().describe('next_cursor of the previous page.')
      }),
      response: { 200: resultsPageSchema, ...problems(400, 401, 404, 409, 429, 503) }
    }
  }, async (request, reply) => {
    if (prefersNdjson(request.headers.accept)) {
      const download = await service.resultLines(request.params.id, request.tenant)
      const body = Readable.from(download.lines, { objectMode: false, highWaterMark: NDJSON_BUFFER_BYTES })
      downloads.add(reply.raw)
      reply.raw.once('close', () => downloads.delete(reply.raw))
      return reply.type('application/x-ndjson; charset=utf-8')
        .header('scan-status', download.status)
        .header('results-count', String(download.count))
        .send(body as unknown as z.infer<typeof resultsPageSchema>)
    }
    const { page, more } = await service.results(request.params.id, request.query.limit ?? RESULTS_LIMIT.fallback, request.query.cursor, request.tenant)
    if (more) reply.header('retry-after', retryAfter)
    return reply.type('application/json; charset=utf-8').send(page)
  })

  app.post('/scans/:id/cancel', {
    schema: {
      operationId: 'cancelScan',
      tags: ['scans'],
      summary: 'Cancel a scan',
      description: 'A queued scan is cancelled at once; a running one (on any instance) is signalled and ends as cancelled shortly after.',
      params: idParams,
      response: { 202: scanStatusSchema, ...problems(401, 404, 409, 429, 503) }
    }
  }, async (request, reply) => {
    return reply.code(202).send(withLinks(await service.cancel(request.params.id, request.tenant)))
  })

  app.delete('/scans/:id', {
    schema: {
      operationId: 'deleteScan',
      tags: ['scans'],
      summary: 'Delete a finished scan and its results',
      params: idParams,
      response: { 204: z.null(), ...problems(401, 404, 409, 429, 503) }
    }
  }, async (request, reply) => {
    await service.remove(request.params.id, request.tenant)
    return reply.code(204).send(null)
  })
}
