/**
 * What `@hono/node-server` keeps inside its lightweight `Request` and `Response` objects, read
 * without making it build the full Fetch objects. On Node it hands out a `Request` over the
 * `IncomingMessage` and, for a string body, a `Response` that only holds `[status, body, headers]`;
 * reading `request.headers`, or the body of such a response, first builds the Fetch `Headers` or a
 * full undici `Response`, which costs more than the proxy's own work. Both are found by the
 * description of the symbol they are kept under (`incomingKey`, `cache`), once, and checked by shape
 * on every use: anything else (a real `Request` or `Response`, another runtime, a later
 * `@hono/node-server` that keeps them otherwise) gets `undefined`, and the caller reads the Fetch
 * object as usual.
 */

/** A symbol found on an object of one kind, looked for on a few objects, then no more. */
function symbolFinder(description: string): (target: object) => symbol | undefined {
  let found: symbol | undefined
  let misses = 0
  return (target) => {
    if (found === undefined && misses < 8) {
      found = Object.getOwnPropertySymbols(target).find((s) => s.description === description)
      if (found === undefined) misses++
    }
    return found
  }
}

const incomingKey = symbolFinder('incomingKey')
const cacheKey = symbolFinder('cache')

type NodeHeaders = Readonly<Record<string, string | readonly string[] | undefined>>

/** What the proxy reads of Node's `IncomingMessage`: its method and its own header object. */
export interface NodeIncoming {
  readonly method?: string
  readonly headers: NodeHeaders
  readonly rawHeaders: readonly string[]
}

/** The `IncomingMessage` a lightweight `Request` was made from, or `undefined`. */
export function incomingOf(request: Request): NodeIncoming | undefined {
  const key = incomingKey(request)
  if (key === undefined) return undefined
  return nodeIncomingOf((request as unknown as Record<symbol, unknown>)[key])
}

/** What looks like Node's `IncomingMessage` (parsed `headers` beside `rawHeaders`), or `undefined`. */
export function nodeIncomingOf(incoming: unknown): NodeIncoming | undefined {
  const message = incoming as { headers?: unknown; rawHeaders?: unknown } | undefined
  const headers = message?.headers
  return typeof headers === 'object' && headers !== null && Array.isArray(message?.rawHeaders)
    ? (message as NodeIncoming)
    : undefined
}

/** The method of a lightweight `Request` made from `incoming`, as `@hono/node-server` reads it. */
export function incomingMethod(incoming: NodeIncoming): string {
  return incoming.method || 'GET'
}

// RFC 9110 §5.1 field names; §5.5 field values as Node sends them (no control characters but tab).
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/

/** A response's headers as lower-case name and value pairs. */
export type HeaderPairs = [name: string, value: string][]

/**
 * The headers a lightweight `Response` was given, as `Headers` would hold them, without building one
 * (undici's `Headers` validates, copies and sorts: more than the whole envelope costs). Hono's `c.json`
 * and `c.text` give a plain object (`{ 'Content-Type': … }`), or a `Headers` when the route set
 * others. `undefined` for anything that would need `Headers`' own rules (repeated names, values with
 * surrounding whitespace, names or values it would refuse, other shapes): the caller reads the Fetch `Response` then.
 */
function headerPairs(init: unknown): HeaderPairs | undefined {
  if (init === undefined) return [['content-type', 'text/plain; charset=UTF-8']]
  const pairs: HeaderPairs = []
  if (init instanceof Headers) {
    init.forEach((value, name) => {
      pairs.push([name, value])
    })
    return pairs
  }
  if (typeof init !== 'object' || init === null || Object.getPrototypeOf(init) !== Object.prototype)
    return undefined
  const record = init as Record<string, unknown>
  // Own keys only, as `Headers` reads a record; a name that is not a token, or a value Node would
  // refuse to send, goes through `Headers` (whose error the envelope then answers, as before).
  for (const name of Object.keys(record)) {
    const value = record[name]
    if (
      typeof value !== 'string' ||
      value !== value.trim() ||
      !TOKEN.test(name) ||
      !FIELD_VALUE.test(value)
    ) {
      return undefined
    }
    const lower = name.toLowerCase()
    for (const [seen] of pairs) if (seen === lower) return undefined
    pairs.push([lower, value])
  }
  return pairs
}

/** Status, text body and header pairs of a lightweight `Response` with a string body, or `undefined`. */
export function lightweightResponse(
  response: Response,
): { status: number; body: string; headers: HeaderPairs } | undefined {
  const key = cacheKey(response)
  if (key === undefined) return undefined
  const cache = (response as unknown as Record<symbol, unknown>)[key]
  if (!Array.isArray(cache) || typeof cache[0] !== 'number' || typeof cache[1] !== 'string') return undefined
  const headers = headerPairs(cache[2])
  if (headers === undefined) return undefined
  // As the bytes of a real `Response` would decode: a lone surrogate becomes U+FFFD.
  const text = cache[1] as string & { isWellFormed(): boolean; toWellFormed(): string } // Node >= 20
  const body = text.isWellFormed() ? text : text.toWellFormed()
  return { status: cache[0], body, headers }
}
