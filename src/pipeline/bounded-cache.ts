/**
 * Values kept by a string key, at most `maxEntries` of them, the oldest dropped first. Keys
 * longer than `maxKeyLength` are not kept, so the memory held stays bounded.
 */
export class BoundedCache<V> {
  readonly #values = new Map<string, V>()
  readonly #maxEntries: number
  readonly #maxKeyLength: number

  constructor (maxEntries: number, maxKeyLength: number) {
    this.#maxEntries = maxEntries
    this.#maxKeyLength = maxKeyLength
  }

  /** The value kept for `key`, or the one `make` returns (kept when the key is short enough). */
  getOrMake (key: string, make: () => V): V {
    const kept = this.#values.get(key)
    if (kept !== undefined) return kept
    const value = make()
    if (key.length > this.#maxKeyLength) return value
    if (this.#values.size >= this.#maxEntries) this.#values.delete(this.#values.keys().next().value as string)
    this.#values.set(key, value)
    return value
  }
}
