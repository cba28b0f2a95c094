/**
 * Where the embedded store keeps result pages (JSON array texts), by name: one name per attempt of
 * a scan or of a partition. Pages are only appended; a name is dropped as a whole.
 */
export interface ResultPages {
  append(name: string, pages: string[]): Promise<void>
  /** Pages `from`..`from+count-1` of `name`; fewer at its end, none for an unknown name. */
  read(name: string, from: number, count: number): Promise<string[]>
  /** Makes the pages appended so far durable. */
  seal(name: string): Promise<void>
  drop(name: string): void
  close(): Promise<void>
}

/** Result pages in this process's memory. */
export class MemoryResultPages implements ResultPages {
  readonly #pages = new Map<string, string[]>()

  async append (name: string, pages: string[]): Promise<void> {
    let list = this.#pages.get(name)
    if (list === undefined) this.#pages.set(name, list = [])
    for (const page of pages) list.push(page)
  }

  async read (name: string, from: number, count: number): Promise<string[]> {
    return this.#pages.get(name)?.slice(from, from + count) ?? []
  }

  async seal (): Promise<void> {}

  drop (name: string): void {
    this.#pages.delete(name)
  }

  async close (): Promise<void> {}
}
