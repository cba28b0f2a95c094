import { Command, Option } from 'commander'
import type { ScanStatusDocument } from '../../../schemas/scan-status.js'
import { ApiClient } from '../api-client.js'
import { positiveInteger, urlOption } from '../options.js'

const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const

export function listCommand (): Command {
  return new Command('list')
    .description('list recent scans, newest first')
    .addOption(urlOption())
    .addOption(new Option('--status <status>', 'only scans in this state').choices(STATUSES))
    .addOption(new Option('--limit <n>', 'at most this many scans').argParser(positiveInteger).default(20))
    .option('--json', 'print the status documents as NDJSON')
    .action(async (options: { url: string, status?: typeof STATUSES[number], limit: number, json?: boolean }) => {
      const list = await new ApiClient({ url: options.url }).list({ status: options.status, limit: options.limit })
      process.stdout.write(options.json === true ? list.items.map((item) => JSON.stringify(item) + '\n').join('') : formatTable(list.items))
    })
}

function formatTable (items: ScanStatusDocument[]): string {
  const rows = [['ID', 'STATUS', 'CREATED', 'PROCESSED', 'TOTAL', 'RESULTS']]
  for (const item of items) {
    rows.push([item.id, item.status, item.created_at, String(item.progress.processed), String(item.progress.total), String(item.result.count)])
  }
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)))
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd()).join('\n') + '\n'
}
