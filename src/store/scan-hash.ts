import type { ScanStatusName } from '../../schemas/scan-status.js'
import type { ScanRequest } from '../../schemas/scan-request.js'
import type { PartitionLayout } from './partition-record.js'
import { decodeLayout } from './redis-partition-store.js'
import type { ScanRecord } from './scan-record.js'
import type { ScanHead } from './scan-store.js'

const JSON_FIELDS = ['progress', 'result', 'error', 'errors', 'metrics'] as const

/** The fields of a scan hash that make its record, in the order decodeScanHash reads them. */
export const RECORD_FIELDS = ['id', 'status', 'created_at', 'started_at', 'finished_at', 'expires_at', 'attempt', 'tenant', 'idempotency_key', ...JSON_FIELDS,
  'partitions', 'pmode', 'cap', 'ptotal', 'stored', 'cancel'] as const

/** A record as stored, with the partition layout and the results admitted of a partitioned scan. */
export type StoredScan = ScanRecord & { layout?: PartitionLayout, stored?: number }

/** The field, value pairs of the hash of a new scan. */
export function encodeScanHash (record: ScanRecord, request: ScanRequest): string[] {
  const fields: Record<string, string> = {
    id: record.id,
    status: record.status,
    created_at: record.created_at,
    attempt: record.attempt ?? '',
    tenant: record.tenant ?? '',
    idempotency_key: record.idempotency_key ?? ''
  }
  for (const name of JSON_FIELDS) fields[name] = JSON.stringify(record[name])
  fields.request = JSON.stringify(request)
  return Object.entries(fields).flat()
}

/** The record from the values of RECORD_FIELDS (HMGET) of a scan hash that exists. */
export function decodeScanHash (values: ReadonlyArray<string | null>): StoredScan {
  const hash: Record<string, string | undefined> = Object.fromEntries(RECORD_FIELDS.map((name, i) => [name, values[i] ?? undefined]))
  const parse = (name: typeof JSON_FIELDS[number]): unknown => hash[name] === undefined ? null : JSON.parse(hash[name]!)
  return {
    id: hash.id!,
    status: hash.status as ScanStatusName,
    created_at: hash.created_at!,
    started_at: hash.started_at ?? null,
    finished_at: hash.finished_at ?? null,
    expires_at: hash.expires_at ?? null,
    progress: parse('progress') as ScanRecord['progress'],
    result: parse('result') as ScanRecord['result'],
    error: parse('error') as ScanRecord['error'],
    errors: (parse('errors') ?? []) as ScanRecord['errors'],
    metrics: parse('metrics') as ScanRecord['metrics'],
    attempt: hash.attempt === '' || hash.attempt === undefined ? null : hash.attempt,
    ...(hash.tenant === undefined || hash.tenant === '' ? {} : { tenant: hash.tenant }),
    ...(hash.idempotency_key === undefined || hash.idempotency_key === '' ? {} : { idempotency_key: hash.idempotency_key }),
    ...(hash.partitions === undefined ? {} : { layout: decodeLayout(hash), stored: Number(hash.stored ?? 0) }),
    ...(hash.cancel === '1' ? { cancelRequested: true } : {})
  }
}

/** The fields of a scan hash that make its head, in the order decodeScanHead reads them. */
export const HEAD_FIELDS = ['status', 'tenant', 'attempt', 'result', 'partitions', 'ckey'] as const

/** The head of scan `id` from the values of HEAD_FIELDS (HMGET), or undefined when the scan is gone. */
export function decodeScanHead (id: string, values: ReadonlyArray<string | null>): ScanHead | undefined {
  const [status, tenant, attempt, result, partitions, cursorKey] = values
  if (status === null) return undefined
  return {
    id,
    status: status as ScanStatusName,
    ...(tenant === null || tenant === '' ? {} : { tenant }),
    attempt: attempt === null || attempt === '' ? null : attempt,
    result: JSON.parse(result ?? 'null') as ScanHead['result'],
    partitioned: partitions !== null,
    ...(cursorKey === null ? {} : { cursorKey })
  }
}
