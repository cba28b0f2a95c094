#!/usr/bin/env node
import { readFileSync } from 'node:fs'
import { createProgram } from './program.js'
import { EXIT_CODES } from './errors.js'

const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }

process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0)
  throw error
})

try {
  await createProgram(version).parseAsync(process.argv)
} catch (error) {
  const code = (error as { code?: string }).code
  process.stderr.write(`parascan: ${(error as Error).message}\n`)
  process.exitCode = (code !== undefined && EXIT_CODES[code]) || 1
}
