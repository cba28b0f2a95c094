import { randomUUID } from 'node:crypto'
import type { ScanRequest } from '../../schemas/scan-request.js'
import { ScanValidationError, withFieldErrors, type FieldError } from '../errors.js'
import type { ScanTask } from '../parallel/types.js'
import { checkFileSource, planFileSource } from '../sources/file-source.js'
import { checkRangeSource } from '../sources/range-source.js'
import type { SourceParams } from '../sources/source-params.js'
import { checkRecordTypes } from './check-record-types.js'
import { checkAggregate, checkSteps } from './check-steps.js'
import { processorCatalogue } from './processor-catalogue.js'
import type { ScanContext } from './scan-context.js'
import type { ScanParams } from './scan-params.js'
import type { StepParams } from './step-params.js'
import { DEFAULT_VALUE_LIMITS } from './value-limits.js'

const scanTaskModule = new URL('../../workers/scan-task.js', import.meta.url)
const aggregateScanTaskModule = new URL('../../workers/aggregate-scan-task.js', import.meta.url)

export interface ScanPlan {
  total: number
  task: ScanTask<ScanParams>
  ordered: boolean
  on_error: 'fail' | 'skip'
}

function fail (errors: FieldError[]): never {
  const first = `${errors[0].path}: ${errors[0].message}`
  const summary = errors.length === 1 ? first : `${first} (and ${errors.length - 1} more)`
  throw withFieldErrors(new ScanValidationError(summary), errors)
}

async function checkRequest (request: ScanRequest, ctx: ScanContext): Promise<StepParams[]> {
  const errors: FieldError[] = []
  if (request.source.type === 'range') errors.push(...checkRangeSource(request.source))
  if (request.source.type === 'file') errors.push(...await checkFileSource(request.source, ctx.dataDir))
  const steps = checkSteps(request.pipeline ?? [], await processorCatalogue(ctx.processorsDir), errors)
  if (request.aggregate !== undefined) checkAggregate(request.aggregate, errors)
  if (errors.length === 0) checkRecordTypes(request.source, request.pipeline ?? [], request.aggregate, errors)
  if (errors.length > 0) fail(errors)
  return steps
}

/**
 * Submit-time checks, fast and without reading more than a CSV header: CEL expressions compile,
 * processors exist and accept their params, a file source is confined to PARASCAN_DATA_DIR and readable.
 */
export async function validateScan (request: ScanRequest, ctx: ScanContext): Promise<void> {
  await checkRequest(request, ctx)
}

/** Run-time: checks again, resolves the source (a file's record index) and builds the task. */
export async function planScan (request: ScanRequest, ctx: ScanContext): Promise<ScanPlan> {
  const steps = await checkRequest(request, ctx)
  const spec = request.source
  let total: number
  let source: SourceParams
  switch (spec.type) {
    case 'range':
      total = spec.end - spec.start
      source = { type: 'range', start: spec.start, end: spec.end }
      break
    case 'inline':
      total = spec.records.length
      source = { type: 'inline', records: spec.records }
      break
    case 'file':
      ({ total, params: source } = await planFileSource(spec, ctx.dataDir))
      break
  }
  const params: ScanParams = { id: randomUUID(), source, steps, limits: ctx.valueLimits ?? DEFAULT_VALUE_LIMITS }
  if (request.aggregate !== undefined) params.aggregate = request.aggregate
  return {
    total,
    task: { module: request.aggregate === undefined ? scanTaskModule : aggregateScanTaskModule, params },
    ordered: request.ordered ?? false,
    on_error: request.on_error ?? 'fail'
  }
}
