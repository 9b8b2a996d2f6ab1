/**
 * Proxy ver. 1 envelope (protocol §7.4): the outer answer is always HTTP 200 with
 * `{"status": <inner status>, "body": <inner payload>}`; ver. 2 passes responses through.
 */

/**
 * How the inner payload is put into `body`: a string (default, protocol §7.4) or a JSON value.
 *
 * @example
 * ```ts
 * import { toProxyV1 } from 'evotor-partner'
 * const bodyEncoding: ProxyV1BodyEncoding = 'json'
 * toProxyV1({ status: 200, body: { ok: true } }, { bodyEncoding }) // { status: 200, body: { ok: true } }
 * ```
 */
export type ProxyV1BodyEncoding = 'string' | 'json'

/**
 * The ver. 1 envelope.
 *
 * @example
 * ```ts
 * import { fromProxyV1, type ProxyV1Envelope } from 'evotor-partner'
 * const envelope: ProxyV1Envelope = fromProxyV1('{"status":404,"body":""}') // { status: 404, body: '' }
 * ```
 */
export interface ProxyV1Envelope {
  status: number
  body: unknown
}

/**
 * A response before wrapping: status, payload and (if known) its content type.
 *
 * @example
 * ```ts
 * import { type ProxyInnerResponse, toProxyV1 } from 'evotor-partner'
 * const inner: ProxyInnerResponse = { status: 200, body: '{"ok":true}', contentType: 'application/json' }
 * toProxyV1(inner, { bodyEncoding: 'json' }) // { status: 200, body: { ok: true } }
 * ```
 */
export interface ProxyInnerResponse {
  status: number
  /** A JS value (serialised as JSON), JSON or other text, bytes, or nothing. */
  body?: unknown
  /** The inner `Content-Type`; tells whether a string/bytes body is JSON text. */
  contentType?: string | undefined
}

/**
 * Options of {@link toProxyV1}.
 *
 * @example
 * ```ts
 * import { type ToProxyV1Options, toProxyV1 } from 'evotor-partner'
 * const options: ToProxyV1Options = { bodyEncoding: 'json' }
 * toProxyV1({ status: 201, body: { id: 1 } }, options) // { status: 201, body: { id: 1 } }
 * ```
 */
export interface ToProxyV1Options {
  /** Default `'string'`: the payload serialised to a string, as the terminal JS APIs expect. */
  bodyEncoding?: ProxyV1BodyEncoding
}

/**
 * The content type of every enveloped answer.
 *
 * @example
 * ```ts
 * res.setHeader('content-type', PROXY_V1_CONTENT_TYPE) // 'application/json;charset=UTF-8'
 * ```
 */
export const PROXY_V1_CONTENT_TYPE = 'application/json;charset=UTF-8'

const decoder = new TextDecoder()

function isJsonContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false
  const type = contentType.split(';', 1)[0]?.trim().toLowerCase() ?? ''
  return type === 'application/json' || type.endsWith('+json')
}

function asText(body: unknown): string | undefined {
  if (typeof body === 'string') return body
  if (body instanceof Uint8Array) return decoder.decode(body)
  if (body instanceof ArrayBuffer) return decoder.decode(new Uint8Array(body))
  return undefined
}

function assertStatus(status: unknown, where: string): asserts status is number {
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) {
    throw new TypeError(`${where}: status must be an integer HTTP status (100-599)`)
  }
}

/**
 * Wraps an inner response into the proxy ver. 1 envelope.
 *
 * @example
 * ```ts
 * toProxyV1({ status: 404, body: { message: 'no such receipt' } })
 * // { status: 404, body: '{"message":"no such receipt"}' }
 * toProxyV1({ status: 200, body: { ok: true } }, { bodyEncoding: 'json' })
 * // { status: 200, body: { ok: true } }
 * ```
 */
export function toProxyV1(inner: ProxyInnerResponse, options: ToProxyV1Options = {}): ProxyV1Envelope {
  assertStatus(inner.status, 'toProxyV1')
  const encoding = options.bodyEncoding ?? 'string'
  if (encoding !== 'string' && encoding !== 'json') {
    throw new TypeError("toProxyV1: bodyEncoding must be 'string' or 'json'")
  }
  const text = asText(inner.body)
  if (encoding === 'string') {
    if (text !== undefined) return { status: inner.status, body: text }
    if (inner.body === undefined || inner.body === null) return { status: inner.status, body: '' }
    return { status: inner.status, body: JSON.stringify(inner.body) ?? '' }
  }
  if (text === undefined) return { status: inner.status, body: inner.body ?? null }
  if (text === '') return { status: inner.status, body: null }
  if (isJsonContentType(inner.contentType)) {
    try {
      return { status: inner.status, body: JSON.parse(text) }
    } catch {
      // Declared JSON but is not: carry it as text rather than lose it.
    }
  }
  return { status: inner.status, body: text }
}

/**
 * Serialises an envelope to the JSON text of the outer HTTP 200 answer.
 *
 * @example
 * ```ts
 * res.writeHead(200, { 'content-type': PROXY_V1_CONTENT_TYPE }).end(serializeProxyV1(envelope))
 * ```
 */
export function serializeProxyV1(envelope: ProxyV1Envelope): string {
  return JSON.stringify({ status: envelope.status, body: envelope.body === undefined ? null : envelope.body })
}

/**
 * `serializeProxyV1(toProxyV1(inner, { bodyEncoding }))`, with the default string encoding built
 * by concatenation instead of an intermediate envelope object (the proxy's per-response path).
 *
 * @internal
 *
 * @example
 * ```ts
 * proxyV1Text({ status: 404, body: { message: 'no such receipt' } }, 'string')
 * // '{"status":404,"body":"{\\"message\\":\\"no such receipt\\"}"}'
 * ```
 */
export function proxyV1Text(inner: ProxyInnerResponse, bodyEncoding: ProxyV1BodyEncoding): string {
  if (bodyEncoding !== 'string') return serializeProxyV1(toProxyV1(inner, { bodyEncoding }))
  assertStatus(inner.status, 'toProxyV1')
  const { body } = inner
  let text: string
  if (typeof body === 'string') text = body
  else if (body === undefined || body === null) text = ''
  else text = asText(body) ?? JSON.stringify(body) ?? ''
  // One flat string from one serialisation (a template would join pieces that are flattened later).
  return JSON.stringify({ status: inner.status, body: text })
}

/**
 * Options of {@link fromProxyV1}.
 *
 * @example
 * ```ts
 * import { type FromProxyV1Options, fromProxyV1 } from 'evotor-partner'
 * const options: FromProxyV1Options = { parseJson: true }
 * fromProxyV1('{"status":200,"body":"{\\"ok\\":true}"}', options) // { status: 200, body: { ok: true } }
 * ```
 */
export interface FromProxyV1Options {
  /** Parse a string `body` as JSON when it is valid JSON (default `false`: keep the string). */
  parseJson?: boolean
}

/**
 * Unwraps a proxy ver. 1 envelope (for terminal-side code and tests): accepts the JSON text,
 * its bytes or the parsed object, and returns the inner status and body.
 * Throws `TypeError` when the input is not an envelope.
 *
 * @example
 * ```ts
 * const { status, body } = fromProxyV1(await response.text(), { parseJson: true })
 * ```
 */
export function fromProxyV1(input: unknown, options: FromProxyV1Options = {}): ProxyV1Envelope {
  let value: unknown = input
  const text = asText(input)
  if (text !== undefined) {
    try {
      value = JSON.parse(text)
    } catch {
      throw new TypeError('fromProxyV1: input is not JSON')
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !('status' in value)) {
    throw new TypeError('fromProxyV1: input is not a {status, body} envelope')
  }
  const envelope = value as { status: unknown; body?: unknown }
  assertStatus(envelope.status, 'fromProxyV1')
  let body = envelope.body ?? null
  if (options.parseJson === true && typeof body === 'string' && body !== '') {
    try {
      body = JSON.parse(body)
    } catch {
      // Not JSON text: the caller gets the string.
    }
  }
  return { status: envelope.status, body }
}
