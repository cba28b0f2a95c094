import { after } from 'node:test'
import type { ChildProcess } from 'node:child_process'
import type { Instance } from './cluster-harness.js'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Child processes and temporary state directories of a test file: killed and removed after it. */
export function stateDirHarness (): { children: ChildProcess[], stateDir: () => string } {
  const children: ChildProcess[] = []
  const dirs: string[] = []
  after(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  })
  return {
    children,
    stateDir: () => {
      const dir = mkdtempSync(join(tmpdir(), 'parascan-state-'))
      dirs.push(dir)
      return dir
    }
  }
}

/** Stops an instance with `signal` and gives its exit code. */
export async function kill (instance: Instance, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
  instance.child.kill(signal)
  return await instance.exited
}
