import { InvalidArgumentError, Option } from 'commander'

export const DEFAULT_URL = 'http://127.0.0.1:3000'

/** What every command that talks to the service takes. */
export interface ClientOptions {
  url: string
  apiKey?: string
}

export function urlOption (): Option {
  return new Option('--url <url>', 'base URL of the service').env('PARASCAN_URL').default(DEFAULT_URL).argParser(parseUrl)
}

export function apiKeyOption (): Option {
  return new Option('--api-key <key>', 'API key, sent as Authorization: Bearer <key>').env('PARASCAN_API_KEY')
}

export function jsonOption (what: string): Option {
  return new Option('--json', `print ${what} as one JSON document on standard output`)
}

export function parseUrl (text: string): string {
  const protocol = URL.canParse(text) ? new URL(text).protocol : undefined
  if (protocol !== 'http:' && protocol !== 'https:') throw new InvalidArgumentError('not an http:// or https:// URL')
  return text
}

export function positiveInteger (text: string): number {
  const value = Number(text)
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < 1) throw new InvalidArgumentError('not a positive integer')
  return value
}

export function intervalOption (): Option {
  return new Option('--interval <ms>', 'polling period while waiting, in milliseconds').argParser(positiveInteger).default(500)
}

export function writeJson (value: unknown): void {
  process.stdout.write(JSON.stringify(value) + '\n')
}
