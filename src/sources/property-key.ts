/**
 * `name` as V8 keeps a property key (an internalized string). A record built with `out[name] = v`
 * from names read out of params or a header stores through a monomorphic inline cache when the
 * name is the key's own string; with an equal string of another origin every store goes through
 * V8's megamorphic stub.
 */
export function propertyKey (name: string): string {
  return Object.keys({ [name]: true })[0]
}
