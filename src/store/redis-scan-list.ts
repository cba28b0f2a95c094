import type { Redis } from 'ioredis'
import type { ListOptions } from './scan-store.js'
import type { ScanRecord } from './scan-record.js'
import { decodeScanHash, RECORD_FIELDS, type StoredScan } from './scan-hash.js'

/** Where listScans reads: the index of scan ids, the hash of each scan, and the record a stored scan shows. */
export interface ScanListSource {
  redis: Redis
  index: string
  key: (id: string) => string
  record: (stored: StoredScan) => Promise<ScanRecord>
}

/** Newest first, read from the index in batches; ids whose scan has expired are taken out of the index on the way. */
export async function listScans (source: ScanListSource, options: ListOptions): Promise<ScanRecord[]> {
  const { redis, index } = source
  const out: ScanRecord[] = []
  let before = options.before
  const batch = Math.max(options.limit, 50)
  for (;;) {
    const ids = await redis.zrevrangebylex(index, before === undefined ? '+' : `(${before}`, '-', 'LIMIT', 0, batch)
    if (ids.length === 0) return out
    const pipeline = redis.pipeline()
    for (const id of ids) pipeline.hmget(source.key(id), ...RECORD_FIELDS)
    const hashes = (await pipeline.exec()) ?? []
    const gone: string[] = []
    for (let i = 0; i < ids.length; i++) {
      const values = hashes[i]?.[1] as Array<string | null> | undefined
      if (values?.[1] == null) {
        gone.push(ids[i])
        continue
      }
      const record = await source.record(decodeScanHash(values))
      if (options.status !== undefined && record.status !== options.status) continue
      if (options.tenant !== undefined && record.tenant !== options.tenant) continue
      out.push(record)
      if (out.length >= options.limit) break
    }
    if (gone.length > 0) await redis.zrem(index, ...gone)
    if (out.length >= options.limit || ids.length < batch) return out
    before = ids[ids.length - 1]
  }
}
