#!/usr/bin/env node
import { readFileSync } from 'node:fs'
import { CommanderError } from 'commander'
import { createProgram } from './program.js'
import { EXIT, EXIT_CODES } from './errors.js'

const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }

process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0)
  throw error
})

try {
  await createProgram(version).parseAsync(process.argv)
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage
  } else {
    const code = (error as { code?: string }).code
    process.stderr.write(`parascan: ${(error as Error).message}\n`)
    process.exitCode = (code !== undefined && EXIT_CODES[code]) || EXIT.error
  }
}
