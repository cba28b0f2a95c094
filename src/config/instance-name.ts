import { hostname } from 'node:os'

/** Names this instance in per-worker metrics and as the processor of its partition jobs. */
export function instanceName (): string {
  return `${hostname()}:${process.pid}`
}
