import type { FileSourceParams } from './file-source-params.js'
import type { InlineSourceParams } from './inline-source.js'
import type { RangeSourceParams } from './range-source.js'

/** A resolved source, as it travels to the worker threads. */
export type SourceParams = RangeSourceParams | InlineSourceParams | FileSourceParams
