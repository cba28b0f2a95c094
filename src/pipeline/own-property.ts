/** Sets `target[key]` as an own data property, also when the key is `__proto__` (plain assignment would set the prototype). */
export function setOwnProperty (target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
  else target[key] = value
}
