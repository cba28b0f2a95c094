import type { UnrefTimers } from './unref-timers.js'

export interface IdempotencyClaim {
  value: string
  claimedAt: number
}

/** Idempotency keys of the embedded store: each is forgotten a retention after it was claimed. */
export class MemoryIdempotencyKeys {
  readonly #claims = new Map<string, IdempotencyClaim>()
  readonly #retentionMs: number
  readonly #timers: UnrefTimers

  constructor (retentionMs: number, timers: UnrefTimers) {
    this.#retentionMs = retentionMs
    this.#timers = timers
  }

  get (key: string): IdempotencyClaim | undefined {
    return this.#claims.get(key)
  }

  has (key: string): boolean {
    return this.#claims.has(key)
  }

  delete (key: string): void {
    this.#claims.delete(key)
  }

  claim (key: string, claim: IdempotencyClaim): void {
    this.#claims.set(key, claim)
    this.#timers.later(claim.claimedAt + this.#retentionMs - Date.now(), () => { if (this.#claims.get(key) === claim) this.#claims.delete(key) })
  }
}
