/** The Fetch side of the I/O: an answer as a `Response`, and what a route answered, for ver. 1. */
import { isEvotorError } from '../core/evotor-error.js'
import type { HeadersLike, WebhookResponse } from '../core/http-types.js'
import type { EvotorProxy, EvotorProxyContext, EvotorProxyHeader } from '../core/proxy.js'
import type { ProxyInnerResponse } from '../core/proxy-envelope.js'
import { envelopeOf, INNER_ONLY_HEADERS } from '../core/serve-proxied.js'
import type { WebhookBodyOptions, WebhookFlow } from '../core/serve-webhook.js'
import { readWebBody } from './web-body.js'

/** The symbol under which @hono/node-server keeps a lightweight Request's `IncomingMessage`, once seen. */
let incomingKey: symbol | undefined
/** Requests looked at without finding it; past a few, this runtime has none and nobody looks again. */
let misses = 0

/**
 * The headers to authenticate a Fetch `Request` with. On Node through `@hono/node-server`, a request
 * is a lightweight object over Node's `IncomingMessage`, and reading `request.headers` first builds
 * a Fetch `Headers` from all of them, which costs more than the proxy's own work: the message's own
 * header object is read instead, as the Koa, Express and Hono adapters read it. Anything else (a
 * real `Request`, another runtime, a later @hono/node-server without that key) gets `request.headers`.
 */
export function fetchRequestHeaders(request: Request): readonly [HeadersLike, 'node' | undefined] {
  if (incomingKey === undefined && misses < 8) {
    incomingKey = Object.getOwnPropertySymbols(request).find((s) => s.description === 'incomingKey')
    if (incomingKey === undefined) misses++
  }
  if (incomingKey !== undefined) {
    const incoming = (request as unknown as Record<symbol, { headers?: unknown; rawHeaders?: unknown }>)[
      incomingKey
    ]
    const headers = incoming?.headers
    if (typeof headers === 'object' && headers !== null && Array.isArray(incoming?.rawHeaders)) {
      return [headers as Readonly<Record<string, string | readonly string[] | undefined>>, 'node']
    }
  }
  return [request.headers, undefined]
}

/**
 * Options of `createEvotorWebhooksHandler`: `bodyLimit` (bytes, default 10 MB; more answers 413),
 * `bodyTimeoutMs` (default 5000; a trickled or stalled body answers 408 with `Connection: close`) and
 * `fallthrough` (other paths resolve to `undefined` instead of 404 `{}`).
 * @example `createEvotorWebhooksHandler(webhooks, { bodyLimit: 1024 * 1024, fallthrough: true })`
 */
export interface EvotorWebhooksHandlerOptions extends WebhookBodyOptions {
  /** When `true`, a path that is not a webhook's resolves to `undefined`, for the app to answer. */
  fallthrough?: boolean
}

/**
 * A Fetch-style route handler behind `withEvotorProxy`: gets the verified context, whose ids the
 * proxy requires (`R`; all three by default) are `string`.
 *
 * @example
 * ```ts
 * const handler: EvotorProxyHandler<'storeUuid'> = async (_request, evotor) => Response.json(evotor.storeUuid)
 * ```
 */
export type EvotorProxyHandler<R extends EvotorProxyHeader = never> = (
  request: Request,
  evotor: EvotorProxyContext<R>,
) => Response | Promise<Response>

const encoder = new TextEncoder()

/** UTF-8 length of `text` without encoding it (lone surrogates count as U+FFFD, as encoders write them). */
function utf8Length(text: string): number {
  let length = text.length
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x80) continue
    if (code < 0x800) {
      length += 1
      continue
    }
    const next = text.charCodeAt(i + 1)
    // A surrogate pair: 2 code units, 4 bytes; anything else up here: 1 code unit, 3 bytes.
    if (code >= 0xd800 && code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) i++
    length += 2
  }
  return length
}

/**
 * The answer as a `Response` (no body for HEAD, 204, 304), with `extra` headers under it (which it
 * fills). A string body with a plain header object: `@hono/node-server` sends that without building
 * a Fetch `Headers` or encoding the text twice.
 */
export function toResponse(request: Request, answer: WebhookResponse, extra?: Headers): Response {
  const bodiless = answer.status === 204 || answer.status === 304
  const empty = bodiless || request.method === 'HEAD' || answer.body === ''
  const typed = answer.headers['content-type'] !== undefined
  // Without a content type of its own, a string body would be labelled text/plain: send bytes.
  const body = empty ? null : typed ? answer.body : encoder.encode(answer.body)
  const length = bodiless ? undefined : String(utf8Length(answer.body))
  if (extra === undefined) {
    const headers: Record<string, string> = { ...answer.headers }
    if (length !== undefined) headers['content-length'] = length
    return new Response(body, { status: answer.status, headers })
  }
  for (const [name, value] of Object.entries(answer.headers)) extra.set(name, value)
  if (length !== undefined) extra.set('content-length', length)
  return new Response(body, { status: answer.status, headers: extra })
}

/** Reads a route's `Response` for the envelope; copies its headers except the inner-only ones into `kept`. */
export async function fetchInnerResponse(response: Response, kept: Headers): Promise<ProxyInnerResponse> {
  const body = new Uint8Array(await response.arrayBuffer())
  response.headers.forEach((value, name) => {
    kept.append(name, value)
  })
  for (const name of INNER_ONLY_HEADERS) kept.delete(name)
  return { status: response.status, body, contentType: response.headers.get('content-type') ?? undefined }
}

/** Serves one webhook request (its path matched) through the flow, reading the body as a web stream. */
export async function serveWebRequest(flow: WebhookFlow, request: Request, path: string): Promise<Response> {
  const body = async (limit: number, timeoutMs: number) => ({
    body: await readWebBody(request, limit, timeoutMs),
  })
  const query = new URL(request.url).searchParams
  const { method, headers } = request
  return toResponse(request, await flow.serve({ method, path, query, headers, body }))
}

/**
 * Runs a verified request's route: ver. 2 passes its `Response` through (an `EvotorError` it throws
 * becomes the error answer); ver. 1 wraps every outcome in the envelope.
 */
export async function runProxiedHandler(
  proxy: EvotorProxy,
  request: Request,
  context: EvotorProxyContext,
  handler: EvotorProxyHandler<EvotorProxyHeader>,
): Promise<Response> {
  // The proxy answered 400 already when a required header was missing.
  const guaranteed = context as EvotorProxyContext<EvotorProxyHeader>
  if (proxy.proxyVersion === 2) {
    try {
      return await handler(request, guaranteed)
    } catch (error) {
      if (!isEvotorError(error)) throw error
      return toResponse(request, proxy.errorResponse(error))
    }
  }
  const kept = new Headers()
  const run = async () => fetchInnerResponse(await handler(request, guaranteed), kept)
  return toResponse(request, await envelopeOf(proxy, run), kept)
}
