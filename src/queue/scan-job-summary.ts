import type { ScanRequest } from '../../schemas/scan-request.js'

/** What the queue dashboard shows of a scan: a readable job name and a short request summary. */
export interface ScanJobInfo {
  /** e.g. `range [0, 1000000): filter → map`. */
  name: string
  summary: ScanJobSummary
}

export interface ScanJobSummary {
  tenant?: string
  source: string
  pipeline: string[]
  aggregate?: string
  ordered: boolean
  on_error: string
  max_results?: number
  timeout_seconds?: number
  parallel?: Record<string, unknown>
}

const MAX_TEXT = 160
const MAX_NAME = 120

function clip (text: string, max = MAX_TEXT): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}

function describeSource (source: ScanRequest['source']): string {
  switch (source.type) {
    case 'range': return `range [${source.start}, ${source.end})`
    case 'inline': return `inline, ${source.records.length} records`
    case 'file': return clip(`${source.format} file ${source.path}`)
  }
}

function stepKind (step: ScanRequest['pipeline'][number]): string {
  if ('filter' in step) return 'filter'
  if ('map' in step) return 'map'
  return step.processor
}

function describeStep (step: ScanRequest['pipeline'][number]): string {
  if ('filter' in step) return clip(`filter: ${step.filter}`)
  if ('map' in step) return clip(`map: ${step.map}`)
  return clip(`processor: ${step.processor}${step.params === undefined ? '' : ` ${JSON.stringify(step.params)}`}`)
}

/** The job name and summary of a scan request: no records, expressions and paths clipped to a few words. */
export function describeScanJob (request: ScanRequest, tenant?: string): ScanJobInfo {
  const source = describeSource(request.source)
  const steps = request.pipeline ?? []
  const kinds = [...steps.map(stepKind), ...(request.aggregate === undefined ? [] : ['aggregate'])]
  const name = clip(`${source}${kinds.length === 0 ? '' : `: ${kinds.join(' → ')}`}`, MAX_NAME)
  const aggregate = request.aggregate === undefined
    ? undefined
    : clip(`${request.aggregate.group_by === undefined ? '' : `group by ${request.aggregate.group_by}; `}${Object.entries(request.aggregate.metrics).map(([key, metric]) => `${key} = ${metric.op}(${metric.expr ?? ''})`).join(', ')}`)
  return {
    name,
    summary: {
      ...(tenant === undefined ? {} : { tenant }),
      source,
      pipeline: steps.map(describeStep),
      ...(aggregate === undefined ? {} : { aggregate }),
      ordered: request.ordered ?? false,
      on_error: request.on_error ?? 'fail',
      ...(request.max_results === undefined ? {} : { max_results: request.max_results }),
      ...(request.timeout_seconds === undefined ? {} : { timeout_seconds: request.timeout_seconds }),
      ...(request.parallel === undefined ? {} : { parallel: request.parallel })
    }
  }
}
