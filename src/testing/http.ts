/** One HTTP exchange of the simulator, with redaction of secrets for the report. */

/**
 * What was sent, as the report shows it: `Authorization` redacted, body cut short.
 *
 * @example
 * ```ts
 * const sent: CheckRequestRecord | undefined = report.results[0]?.request
 * ```
 */
export interface CheckRequestRecord {
  method: string
  path: string
  headers: Record<string, string>
  body?: string
}

/**
 * What came back, as the report shows it (absent when nothing came back).
 *
 * @example
 * ```ts
 * const got: CheckResponseRecord | undefined = report.results[0]?.response
 * ```
 */
export interface CheckResponseRecord {
  status: number
  body: string
}

/**
 * One request and what came of it: the answer, or why there is none.
 *
 * @internal
 *
 * @example
 * ```ts
 * if (exchange.failure === undefined && exchange.isJson) console.log(exchange.status, exchange.json)
 * ```
 */
export interface Exchange {
  request: CheckRequestRecord
  response: CheckResponseRecord | undefined
  status: number | undefined
  text: string
  json: unknown
  /** Whether the body parsed as JSON (`json` is meaningless otherwise). */
  isJson: boolean
  ms: number
  /** Why there is no response: `timeout` or the network error. */
  failure: string | undefined
}

/**
 * What {@link send} sends, and where.
 *
 * @internal
 *
 * @example
 * ```ts
 * const options: SendOptions = { fetch, baseUrl, method: 'GET', path, headers: {}, timeoutMs: 5000 }
 * ```
 */
export interface SendOptions {
  fetch: typeof fetch
  baseUrl: URL
  method: string
  path: string
  headers: Record<string, string>
  /** A value (sent as JSON) or raw text (sent as is, for the bad-JSON check). */
  body?: unknown
  rawBody?: string
  timeoutMs: number
}

const EXCERPT = 600
const SECRET_FIELDS = /^(token|password|secret)$/i

/**
 * Replaces the values of `token`/`password` fields by their length, keeping the shape readable.
 *
 * @internal
 *
 * @example
 * ```ts
 * redactBody('{"token":"abc"}') // '{"token":"[REDACTED 3 chars]"}'
 * ```
 */
export function redactBody(text: string): string {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return text
  }
  if (typeof value !== 'object' || value === null) return text
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk)
    if (typeof node !== 'object' || node === null) return node
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(node)) {
      out[key] =
        SECRET_FIELDS.test(key) && typeof item === 'string' ? `[REDACTED ${item.length} chars]` : walk(item)
    }
    return out
  }
  return JSON.stringify(walk(value))
}

/**
 * Body excerpt for the report.
 *
 * @internal
 *
 * @example
 * ```ts
 * const shown = excerpt(await response.text()) // redacted, at most 600 characters plus a length note
 * ```
 */
export function excerpt(text: string): string {
  const redacted = redactBody(text)
  return redacted.length > EXCERPT ? `${redacted.slice(0, EXCERPT)}… (${redacted.length} chars)` : redacted
}

/**
 * Header map for the report with `Authorization` reduced to its scheme.
 *
 * @internal
 *
 * @example
 * ```ts
 * redactHeaders({ Authorization: 'Bearer abc' }) // { Authorization: 'Bearer [REDACTED]' }
 * ```
 */
export function redactHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() === 'authorization') {
      const scheme = /^(\S+)\s/.exec(value)?.[1]
      out[name] = scheme === undefined ? '[REDACTED]' : `${scheme} [REDACTED]`
    } else {
      out[name] = value
    }
  }
  return out
}

/**
 * Joins the base URL (which may carry a path prefix) and a route path with its query.
 *
 * @internal
 *
 * @example
 * ```ts
 * resolveUrl(new URL('http://localhost:3000/evotor/'), '/api/v1/user/create').href
 * // 'http://localhost:3000/evotor/api/v1/user/create'
 * ```
 */
export function resolveUrl(base: URL, path: string): URL {
  const prefix = base.pathname.endsWith('/') ? base.pathname.slice(0, -1) : base.pathname
  return new URL(`${base.origin}${prefix}${path.startsWith('/') ? path : `/${path}`}`)
}

/**
 * Sends one request; never throws: a timeout or network error becomes `failure`.
 *
 * @internal
 *
 * @example
 * ```ts
 * const exchange = await send({ fetch, baseUrl, method: 'GET', path, headers, timeoutMs: 9000 })
 * ```
 */
export async function send(options: SendOptions): Promise<Exchange> {
  const headers: Record<string, string> = { ...options.headers }
  let body: string | undefined
  if (options.rawBody !== undefined) body = options.rawBody
  else if (options.body !== undefined) body = JSON.stringify(options.body)
  const request: CheckRequestRecord = {
    method: options.method,
    path: options.path,
    headers: redactHeaders(headers),
    ...(body === undefined ? {} : { body: excerpt(body) }),
  }
  const controller = new AbortController()
  const started = performance.now()
  const timer = setTimeout(() => controller.abort(), options.timeoutMs)
  try {
    const response = await options.fetch(resolveUrl(options.baseUrl, options.path), {
      method: options.method,
      headers,
      ...(body === undefined ? {} : { body }),
      signal: controller.signal,
      redirect: 'manual',
    })
    const text = await response.text()
    const ms = Math.round(performance.now() - started)
    let json: unknown
    let isJson = false
    if (text !== '') {
      try {
        json = JSON.parse(text)
        isJson = true
      } catch {
        // Not JSON: the checks that need JSON say so.
      }
    }
    return {
      request,
      response: { status: response.status, body: excerpt(text) },
      status: response.status,
      text,
      json,
      isJson,
      ms,
      failure: undefined,
    }
  } catch (error) {
    const ms = Math.round(performance.now() - started)
    const failure = controller.signal.aborted
      ? `no answer within ${options.timeoutMs} ms (timeout)`
      : `request failed: ${describeError(error)}`
    return {
      request,
      response: undefined,
      status: undefined,
      text: '',
      json: undefined,
      isJson: false,
      ms,
      failure,
    }
  } finally {
    clearTimeout(timer)
  }
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause
    if (cause instanceof Error) {
      const code = (cause as { code?: unknown }).code
      return typeof code === 'string' ? `${code} ${cause.message}` : cause.message
    }
    return error.message
  }
  return String(error)
}
