import type { FlowProducer, Job } from 'bullmq'
import type { PartitionJob, ScanJobFlow } from './scan-queue.js'
import { finishedJobAge } from './finished-job-retention.js'

/** Where a scan job's partition jobs go. */
export interface PartitionJobTarget {
  flows: FlowProducer
  /** Queue of the partition jobs. */
  queueName: string
  /** How long finished jobs are kept (ms). */
  retentionMs: number
}

/** What the scan job `job`, run with the lock `token`, can do with its partition jobs. */
export function bullmqJobFlow (job: Job<{ id: string, partitioned?: boolean, summary?: { tenant?: string } }>, token: string, target: PartitionJobTarget): ScanJobFlow {
  return {
    tenant: job.data.summary?.tenant,
    partitioned: job.data.partitioned === true,
    waitForPartitions: async (partitions) => {
      const counts = await job.getDependenciesCount()
      const children = Object.values(counts).reduce((sum, n) => sum + n, 0)
      if (partitions !== null && children === 0) {
        if (job.data.partitioned !== true) await job.updateData({ ...job.data, partitioned: true })
        const age = finishedJobAge(target.retentionMs)
        await target.flows.addBulk(partitions.map((partition) => ({
          name: partitionJobName(partition),
          queueName: target.queueName,
          data: partition,
          opts: {
            jobId: `${partition.id}-${partition.part}`,
            parent: { id: job.id!, queue: job.queueQualifiedName },
            failParentOnFailure: true,
            attempts: 1,
            removeOnComplete: { age },
            removeOnFail: { age }
          }
        })))
      }
      return await job.moveToWaitingChildren(token)
    }
  }
}

/** The job name the queue dashboard shows: which part of which scan. */
function partitionJobName (partition: PartitionJob): string {
  return `scan ${partition.id} partition ${partition.part + 1}/${partition.partitions} records ${partition.start}-${partition.end}`
}
