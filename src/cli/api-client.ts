import type { ScanRequest } from '../../schemas/scan-request.js'
import type { ScanStatusDocument, ScanStatusName, ScanSummaryDocument } from '../../schemas/scan-status.js'
import { ApiProblemError, ConnectionFailedError, ConnectionRefusedError, UnexpectedResponseError } from './errors.js'

/** The longest delay a Node timer takes; a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1

export interface ScanAccepted {
  id: string
  status: 'queued'
  created_at: string
  links: { self: string, results: string }
}

export interface ScanList {
  items: ScanSummaryDocument[]
  next_cursor?: string
}

interface Problem {
  code?: string
  title?: string
  detail?: string
  errors?: Array<{ path: string, message: string }>
}

export interface ApiClientOptions {
  /** Base URL of the service. Required. */
  url: string
  /**
   * Time limit of one request (ms).
   * @defaultValue 30000
   */
  timeoutMs?: number
  /**
   * API key sent as `Authorization: Bearer <key>`.
   * @defaultValue the PARASCAN_API_KEY environment variable, else none
   */
  apiKey?: string
}

/** The parascan HTTP API (v1) over fetch; every failure is one of the errors of ./errors.js. */
export class ApiClient {
  readonly url: string
  readonly #timeoutMs: number
  readonly #authorization: Record<string, string>

  constructor (options: ApiClientOptions) {
    this.url = options.url.replace(/\/+$/, '')
    this.#timeoutMs = options.timeoutMs ?? 30_000
    const apiKey = options.apiKey ?? process.env.PARASCAN_API_KEY
    this.#authorization = apiKey === undefined || apiKey === '' ? {} : { authorization: `Bearer ${apiKey}` }
  }

  submit (request: ScanRequest | unknown, idempotencyKey?: string): Promise<ScanAccepted> {
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey
    return this.#request('POST', '/v1/scans', { headers, body: JSON.stringify(request) })
  }

  /** With `waitMs`, a queued or running scan is answered when it finishes or after `waitMs`, whichever is first. */
  status (id: string, waitMs = 0): Promise<ScanStatusDocument> {
    const wait = waitMs > 0 ? `?wait=${Math.ceil(waitMs)}ms` : ''
    return this.#request('GET', `/v1/scans/${encodeURIComponent(id)}${wait}`, {}, waitMs)
  }

  /** Every stored result of a finished scan as NDJSON: the response's body, its scan status and line count. */
  async resultLines (id: string): Promise<{ status: ScanStatusName, count: number, body: AsyncIterable<Uint8Array> }> {
    const target = `${this.url}/v1/scans/${encodeURIComponent(id)}/results`
    const headersReceived = new AbortController()
    const timer = setTimeout(() => headersReceived.abort(new DOMException('no answer in time', 'TimeoutError')), this.#timeoutMs)
    let response: Response
    try {
      response = await fetch(target, { headers: { ...this.#authorization, accept: 'application/x-ndjson' }, signal: headersReceived.signal })
    } catch (error) {
      throw connectionError(this.url, headersReceived.signal.aborted ? headersReceived.signal.reason : error)
    } finally {
      clearTimeout(timer)
    }
    if (!response.ok || response.body === null) throw this.#failure(response, 'GET', target, await response.text())
    return {
      status: response.headers.get('scan-status') as ScanStatusName,
      count: Number(response.headers.get('results-count')),
      body: response.body as unknown as AsyncIterable<Uint8Array>
    }
  }

  cancel (id: string): Promise<ScanStatusDocument> {
    return this.#request('POST', `/v1/scans/${encodeURIComponent(id)}/cancel`)
  }

  async remove (id: string): Promise<void> {
    await this.#request('DELETE', `/v1/scans/${encodeURIComponent(id)}`)
  }

  list (options: { status?: ScanStatusName, limit?: number, cursor?: string } = {}): Promise<ScanList> {
    const query = new URLSearchParams()
    if (options.status !== undefined) query.set('status', options.status)
    if (options.limit !== undefined) query.set('limit', String(options.limit))
    if (options.cursor !== undefined) query.set('cursor', options.cursor)
    return this.#request('GET', `/v1/scans?${query}`)
  }

  async #request<T> (method: string, path: string, init: { headers?: Record<string, string>, body?: string } = {}, waitMs = 0): Promise<T> {
    const target = this.url + path
    let response: Response
    try {
      response = await fetch(target, { method, ...init, headers: { ...this.#authorization, ...init.headers }, signal: AbortSignal.timeout(Math.min(this.#timeoutMs + waitMs, MAX_TIMER_MS)) })
    } catch (error) {
      throw connectionError(this.url, error)
    }
    const text = await response.text()
    if (response.ok) return (text === '' ? undefined : JSON.parse(text)) as T
    throw this.#failure(response, method, target, text)
  }

  #failure (response: Response, method: string, target: string, text: string): Error {
    const problem = parseProblem(text)
    if (problem?.code !== undefined) {
      const detail = problem.detail ?? problem.title ?? ''
      const fields = (problem.errors ?? []).map((field) => `${field.path}: ${field.message}`).filter((text) => !detail.includes(text))
      const hint = response.status === 401 ? [this.#authorization.authorization === undefined ? 'give your key with --api-key or PARASCAN_API_KEY' : 'the key given by --api-key or PARASCAN_API_KEY was refused'] : []
      return Object.assign(new ApiProblemError(problem.code, [detail, ...fields, ...hint].filter((part) => part !== '').join('; ')), { statusCode: response.status, problemCode: problem.code })
    }
    return new UnexpectedResponseError(response.status, `${method} ${target}`, text.slice(0, 200) || response.statusText)
  }
}

/** The service's error code (e.g. PARASCAN_SCAN_NOT_FOUND) of an error thrown by ApiClient, if it has one. */
export function problemCodeOf (error: unknown): string | undefined {
  return (error as { problemCode?: string }).problemCode
}

function parseProblem (text: string): Problem | undefined {
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null ? value as Problem : undefined
  } catch {
    return undefined
  }
}

function connectionError (url: string, error: unknown): Error {
  const cause = (error as { cause?: { code?: string, message?: string } }).cause
  if (cause?.code === 'ECONNREFUSED') return new ConnectionRefusedError(url)
  if ((error as Error).name === 'TimeoutError') return new ConnectionFailedError(url, 'no answer in time')
  return new ConnectionFailedError(url, cause?.message ?? (error as Error).message)
}
