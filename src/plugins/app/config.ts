import { join } from 'node:path'
import fp from 'fastify-plugin'
import type { ServiceConfig } from '../../config/service-config.js'
import type { ParallelConfig } from '../../parallel/parallel-config.js'
import type { ScanContext } from '../../http/scan-planner.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The service's settings, read from the environment. */
    config: ServiceConfig
    /** The engine settings of this instance (PROTO_PARALLEL_*); a scan's `parallel` overrides stay within them. */
    parallelConfig: ParallelConfig
    /** Where a tenant's scans read files and processors (its own data directory with PARASCAN_DATA_DIR_PER_TENANT). */
    scanContext: (tenant?: string) => ScanContext
  }
}

export interface ConfigPluginOptions {
  /** Required. */
  config: ServiceConfig
  /** Required. */
  parallelConfig: ParallelConfig
}

export default fp<ConfigPluginOptions>(async (app, { config, parallelConfig }) => {
  const valueLimits = { valueBytes: config.maxValueBytes, resultBytes: config.maxResultBytes, groups: config.maxGroups }
  const context: ScanContext = { dataDir: config.dataDir, processorsDir: config.processorsDir, valueLimits }
  app.decorate('config', config)
  app.decorate('parallelConfig', parallelConfig)
  app.decorate('scanContext', (tenant?: string) =>
    config.dataDirPerTenant && tenant !== undefined ? { ...context, dataDir: join(config.dataDir, tenant) } : context)
}, { name: 'config' })
