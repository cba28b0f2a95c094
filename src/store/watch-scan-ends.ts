import type { ScanStore } from './scan-store.js'

/** The calls of a store after which a scan may have ended or be gone. */
const ENDING = ['finish', 'finishPartitioned', 'abandon', 'cancel', 'remove'] as const

/** Calls `changed(id)` after each call of `store` that may end or remove scan `id`, whether it succeeds or not. */
export function watchScanEnds (store: ScanStore, changed: (id: string) => void): void {
  for (const name of ENDING) {
    const call = (store[name] as (id: string, ...rest: unknown[]) => Promise<unknown>).bind(store)
    Object.defineProperty(store, name, {
      configurable: true,
      writable: true,
      value: async (id: string, ...rest: unknown[]) => {
        try {
          return await call(id, ...rest)
        } finally {
          changed(id)
        }
      }
    })
  }
}
