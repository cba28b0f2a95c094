import { SERVICE_DEFAULTS } from '../config/service-config.js'

export interface AuthFailureBrakeOptions {
  /**
   * Failed authentications from one address within `windowMs` after which it is refused until the window ends.
   * @defaultValue 10
   */
  maxFailures?: number
  /**
   * Window of the count (ms).
   * @defaultValue 60000
   */
  windowMs?: number
  /**
   * Addresses tracked at once; the oldest is forgotten first.
   * @defaultValue 10000
   */
  maxAddresses?: number
}

interface Entry {
  failures: number
  resetAt: number
}

/** Counts failed authentications per client address, in this process, so that a key guesser is stopped with 429s. */
export class AuthFailureBrake {
  readonly #maxFailures: number
  readonly #windowMs: number
  readonly #maxAddresses: number
  readonly #entries = new Map<string, Entry>()

  constructor (options: AuthFailureBrakeOptions = {}) {
    this.#maxFailures = options.maxFailures ?? SERVICE_DEFAULTS.authFailureLimit
    this.#windowMs = options.windowMs ?? SERVICE_DEFAULTS.authFailureWindowMs
    this.#maxAddresses = options.maxAddresses ?? 10_000
  }

  /** Seconds until `address` may try again, or 0 when it may now. */
  retryAfter (address: string, now = Date.now()): number {
    const entry = this.#entries.get(address)
    if (entry === undefined) return 0
    if (entry.resetAt <= now) {
      this.#entries.delete(address)
      return 0
    }
    return entry.failures >= this.#maxFailures ? Math.ceil((entry.resetAt - now) / 1000) : 0
  }

  fail (address: string, now = Date.now()): void {
    let entry = this.#entries.get(address)
    if (entry === undefined || entry.resetAt <= now) {
      this.#entries.delete(address)
      if (this.#entries.size >= this.#maxAddresses) this.#entries.delete(this.#entries.keys().next().value as string)
      entry = { failures: 0, resetAt: now + this.#windowMs }
      this.#entries.set(address, entry)
    }
    entry.failures++
  }
}
