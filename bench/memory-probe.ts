import { writeFileSync } from 'node:fs'

/**
 * Preloaded into a server process of the load benchmark (node --expose-gc --import): on SIGWINCH (which close-with-grace leaves alone, unlike SIGUSR2) it
 * runs a full garbage collection and writes process.memoryUsage() to MEMORY_PROBE_FILE.
 */
const file = process.env.MEMORY_PROBE_FILE
const gc = (globalThis as { gc?: () => void }).gc
if (file !== undefined && gc !== undefined) {
  process.on('SIGWINCH', () => {
    gc()
    gc()
    writeFileSync(file, JSON.stringify(process.memoryUsage()))
  })
}
