import { Command } from 'commander'
import type { ScanStatusDocument } from '../../../schemas/scan-status.js'
import { ApiClient } from '../api-client.js'
import { apiKeyOption, jsonOption, urlOption, writeJson, type ClientOptions } from '../options.js'
import { formatEta, formatRate } from '../progress-display.js'

export function statusCommand (): Command {
  return new Command('status')
    .description('show the status and progress of a scan')
    .argument('<id>', 'scan id')
    .addOption(urlOption())
    .addOption(apiKeyOption())
    .addOption(jsonOption('the status document'))
    .action(async (id: string, options: ClientOptions & { json?: boolean }) => {
      const status = await new ApiClient(options).status(id)
      if (options.json === true) writeJson(status)
      else process.stdout.write(describeStatus(status))
    })
}

export function describeStatus (status: ScanStatusDocument): string {
  const { total, processed, matched, skipped, fraction, records_per_second: rate, eta_seconds: eta } = status.progress
  const lines = [
    `id:        ${status.id}`,
    `status:    ${status.status}`,
    `created:   ${status.created_at}`,
    ...(status.started_at === null ? [] : [`started:   ${status.started_at}`]),
    ...(status.finished_at === null ? [] : [`finished:  ${status.finished_at}`]),
    `progress:  ${processed}/${total} records (${(fraction * 100).toFixed(1)}%), ${matched} matched${skipped > 0 ? `, ${skipped} skipped` : ''}`,
    `rate:      ${formatRate(rate)} records/s${status.finished_at === null && status.started_at !== null ? `, ETA ${formatEta(eta)}` : ''}`,
    `results:   ${status.result.count}${status.result.truncated ? ' (truncated by max_results)' : ''}`
  ]
  if (status.error !== null) lines.push(`error:     ${status.error.code}: ${status.error.message}${status.error.offset === undefined ? '' : ` (record offset ${status.error.offset})`}`)
  for (const sample of status.errors) lines.push(`skipped:   record offset ${sample.offset}: ${sample.message}`)
  return lines.join('\n') + '\n'
}
