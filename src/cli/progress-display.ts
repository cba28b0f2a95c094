import type { ScanStatusDocument } from '../../schemas/scan-status.js'

/** Shows the progress of a scan while the client waits for it. */
export interface ProgressDisplay {
  update(status: ScanStatusDocument): void
  stop(): void
}

export function formatRate (recordsPerSecond: number): string {
  if (recordsPerSecond >= 1e6) return `${(recordsPerSecond / 1e6).toFixed(2)}M`
  if (recordsPerSecond >= 1e3) return `${(recordsPerSecond / 1e3).toFixed(1)}k`
  return recordsPerSecond.toFixed(0)
}

export function formatEta (seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '?'
  if (seconds < 10) return `${seconds.toFixed(1)}s`
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`
}
