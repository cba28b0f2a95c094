import { Command, Option } from 'commander'
import type { ScanSummaryDocument } from '../../../schemas/scan-status.js'
import { ApiClient } from '../api-client.js'
import { apiKeyOption, jsonOption, positiveInteger, urlOption, writeJson, type ClientOptions } from '../options.js'

const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const

interface ListOptions extends ClientOptions {
  status?: typeof STATUSES[number]
  limit: number
  cursor?: string
  json?: boolean
}

export function listCommand (): Command {
  return new Command('list')
    .description('list recent scans, newest first, one page at a time')
    .addOption(urlOption())
    .addOption(apiKeyOption())
    .addOption(new Option('--status <status>', 'only scans in this state').choices(STATUSES))
    .addOption(new Option('--limit <n>', 'at most this many scans').argParser(positiveInteger).default(20))
    .option('--cursor <cursor>', 'the page after the one that printed this cursor')
    .addOption(jsonOption('the page ({"items": [status documents], "next_cursor": …})'))
    .action(async (options: ListOptions) => {
      const list = await new ApiClient(options).list({ status: options.status, limit: options.limit, cursor: options.cursor })
      if (options.json === true) {
        writeJson(list)
        return
      }
      process.stdout.write(formatTable(list.items))
      if (list.next_cursor !== undefined) process.stderr.write(`more: parascan list --cursor ${list.next_cursor}\n`)
    })
}

function formatTable (items: ScanSummaryDocument[]): string {
  const rows = [['ID', 'STATUS', 'CREATED', 'PROCESSED', 'TOTAL', 'SKIPPED', 'RESULTS']]
  for (const item of items) {
    rows.push([item.id, item.status, item.created_at, String(item.progress.processed), String(item.progress.total), String(item.progress.skipped), String(item.result.count)])
  }
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)))
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd()).join('\n') + '\n'
}
