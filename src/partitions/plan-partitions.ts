import type { ScanRequest } from '../../schemas/scan-request.js'

/** One record range of a partitioned scan: records [start, end) of the source. */
export interface PartitionRange {
  /** Index of the partition, 0..partitions-1, in record order. */
  index: number
  start: number
  end: number
}

export interface PartitionPolicy {
  /** Records per partition when the request names no count. */
  partitionRecords: number
  /** Most partitions of one scan. */
  maxPartitions: number
}

/** How many partitions a scan of `total` records gets: 1 runs it as one job. */
export function partitionCount (total: number, request: Pick<ScanRequest, 'partitions'>, policy: PartitionPolicy): number {
  const wanted = request.partitions ?? Math.ceil(total / policy.partitionRecords)
  return Math.max(1, Math.min(wanted, policy.maxPartitions, total))
}

/** `count` contiguous ranges covering [0, total), sizes differing by at most one record. */
export function planPartitions (total: number, count: number): PartitionRange[] {
  const ranges: PartitionRange[] = []
  for (let index = 0; index < count; index++) {
    ranges.push({ index, start: Math.floor(index * total / count), end: Math.floor((index + 1) * total / count) })
  }
  return ranges
}
