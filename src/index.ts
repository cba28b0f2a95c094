export type * from './parallel/types.js'
export { parallelScan } from './parallel/parallel-scan.js'
export { WorkStealingPool, type WorkStealingPoolOptions } from './parallel/work-stealing-pool.js'
export { ParallelConfig } from './parallel/parallel-config.js'
export { AdaptiveChunkController, type AdaptiveChunkControllerOptions } from './parallel/adaptive-chunk-controller.js'
export {
  ConfigError, InvalidTotalError, InvalidScanOptionError, TaskModuleError, FetchFailedError, ShortFetchError,
  RecordFailedError, ResultEncodingError, WorkerCrashedError, ScanAbortedError, PoolClosedError, IncompleteScanError, ScanStalledError
} from './parallel/errors.js'
