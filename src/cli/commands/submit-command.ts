import { readFile } from 'node:fs/promises'
import { Command } from 'commander'
import type { ScanStatusDocument } from '../../../schemas/scan-status.js'
import { ApiClient } from '../api-client.js'
import { downloadResults } from '../download-results.js'
import { EXIT, ScanCancelledError, ScanFailedError, ScanFileError, UsageError } from '../errors.js'
import { NdjsonOutput } from '../ndjson-output.js'
import { apiKeyOption, intervalOption, jsonOption, urlOption, writeJson, type ClientOptions } from '../options.js'
import { PlainProgressLines } from '../plain-progress-lines.js'
import { TtyProgressBar } from '../tty-progress-bar.js'
import { waitForScan } from '../wait-for-scan.js'

interface SubmitOptions extends ClientOptions {
  wait?: boolean
  json?: boolean
  out?: string
  idempotencyKey?: string
  interval: number
  progress: boolean
}

export function submitCommand (): Command {
  return new Command('submit')
    .description('submit a scan; with --wait, follow its progress and write its results as NDJSON')
    .argument('<file>', 'JSON file with the scan request (- reads standard input)')
    .addOption(urlOption())
    .addOption(apiKeyOption())
    .option('-w, --wait', 'wait for the scan to finish, then write its results')
    .option('-o, --out <file>', 'write the results to this file instead of standard output (implies --wait)')
    .option('--idempotency-key <key>', 'send an Idempotency-Key: the same key and body return the first scan')
    .addOption(intervalOption())
    .option('--no-progress', 'do not show progress while waiting')
    .addOption(jsonOption('the accepted scan, or with --wait the final status document (needs --out)'))
    .addHelpText('after', `
Without --wait, prints the id of the queued scan (--json: the accepted scan). With
--wait, shows progress on standard error (a bar on a terminal; otherwise a line when
the status changes, at each 10 %, and at most every 30 s), writes the results, and
exits with 3 if the scan failed and 4 if it was cancelled.

Example:
  $ parascan submit scan.json --wait --out results.ndjson`)
    .action(async (file: string, options: SubmitOptions) => {
      const wait = options.wait === true || options.out !== undefined
      if (wait && options.json === true && options.out === undefined) {
        throw new UsageError('--wait --json needs --out: standard output carries either the results or the JSON document')
      }
      const request = await readScanFile(file)
      const client = new ApiClient(options)
      if (!wait) {
        const accepted = await client.submit(request, options.idempotencyKey)
        if (options.json === true) writeJson(accepted)
        else process.stdout.write(accepted.id + '\n')
        return
      }
      const output = await NdjsonOutput.open(options.out)
      let status: ScanStatusDocument
      try {
        const { id } = await client.submit(request, options.idempotencyKey)
        const display = !options.progress
          ? { update () {}, stop () {} }
          : process.stderr.isTTY ? new TtyProgressBar(process.stderr) : new PlainProgressLines(process.stderr)
        const interrupted = (): void => {
          display.stop()
          process.stderr.write(`\nstopped waiting; scan ${id} goes on (parascan cancel ${id} stops it)\n`)
          void output.discard().finally(() => process.exit(EXIT.interrupted))
        }
        process.once('SIGINT', interrupted)
        status = await waitForScan(client, id, display, options.interval).finally(() => process.off('SIGINT', interrupted))
        if (options.json === true && status.status !== 'succeeded') writeJson(status)
        throwUnlessSucceeded(status)
        await downloadResults(client, id, output, { intervalMs: options.interval })
        await output.commit()
      } catch (error) {
        await output.discard()
        throw error
      }
      const truncated = status.result.truncated ? ' (truncated by max_results)' : ''
      process.stderr.write(`scan ${status.id} succeeded: ${status.progress.processed} records, ${status.progress.skipped} skipped, ${output.lines} results${truncated}${options.out === undefined ? '' : ` written to ${options.out}`}\n`)
      if (options.json === true) writeJson(status)
    })
}

export function throwUnlessSucceeded (status: ScanStatusDocument): void {
  if (status.status === 'failed') {
    const message = status.error?.message ?? 'no reason given'
    const offset = status.error?.offset
    const at = offset === undefined || message.includes(`offset ${offset}`) ? '' : ` (record offset ${offset})`
    throw new ScanFailedError(status.id, status.error?.code ?? 'UNKNOWN', message + at)
  }
  if (status.status === 'cancelled') throw new ScanCancelledError(status.id, status.error?.message ?? 'on request')
}

async function readScanFile (file: string): Promise<unknown> {
  let text: string
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8')
  } catch (error) {
    throw new ScanFileError(file, (error as Error).message)
  }
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new ScanFileError(file, `not valid JSON: ${(error as Error).message}`)
  }
}

async function readStdin (): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
