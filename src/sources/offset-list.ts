/** A growable list of byte offsets (doubles: files may exceed 4 GiB). */
export class OffsetList {
  #values = new Float64Array(1024)
  length = 0

  push (value: number): void {
    if (this.length === this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2)
      grown.set(this.#values)
      this.#values = grown
    }
    this.#values[this.length++] = value
  }

  get (index: number): number {
    return this.#values[index]
  }

  /** Offsets [from, length) copied into a SharedArrayBuffer. */
  toShared (from = 0): SharedArrayBuffer {
    const shared = new SharedArrayBuffer((this.length - from) * 8)
    new Float64Array(shared).set(this.#values.subarray(from, this.length))
    return shared
  }
}
