/** The Fetch side of the I/O: an answer as a `Response`, and what a route answered, for ver. 1. */
import { setEvotorContext } from '../core/evotor-context.js'
import { isEvotorError } from '../core/evotor-error.js'
import type { WebhookResponse } from '../core/http-types.js'
import type { EvotorProxy, EvotorProxyContext, EvotorProxyHeader } from '../core/proxy.js'
import type { ProxyInnerResponse } from '../core/proxy-envelope.js'
import { admitProxied, envelopeOf, INNER_ONLY_HEADERS, type ProxyAdmission } from '../core/serve-proxied.js'
import type { WebhookBodyOptions, WebhookFlow } from '../core/serve-webhook.js'
import { incomingMethod, incomingOf, lightweightResponse, type NodeIncoming } from './hono-node-server.js'
import { readWebBody } from './web-body.js'

/**
 * The proxy's admission of a Fetch `Request`. `incoming`: the `IncomingMessage` it was made from on
 * Node through `@hono/node-server` (`incomingOf`), whose method and own header object are read (as
 * the Koa, Express and Hono adapters read them) instead of the Fetch `Headers` the request would
 * build from all of them; anything else, the request's own.
 */
function admitFetch(
  proxy: EvotorProxy,
  request: Request,
  incoming: NodeIncoming | undefined,
): ProxyAdmission | Promise<ProxyAdmission> {
  return incoming === undefined
    ? admitProxied(proxy, request.method, request.headers)
    : admitProxied(proxy, incomingMethod(incoming), incoming.headers, 'node')
}

/**
 * A terminal request through `withEvotorProxy`: admission, then the route with the verified context
 * (also `getEvotorContext(request)`: on Node through `@hono/node-server` the context goes on the
 * `IncomingMessage`, where that finds it). Ver. 2 with a cached token and a route that answers at once
 * returns its `Response` as it is, not a promise: resolving a promise with a `Response` looks up its
 * `then` along the prototype chain, which on `@hono/node-server` cost as much as the proxy's own work.
 * Anything that fails other than with an `EvotorError` rejects (never throws).
 */
export function serveProxiedFetch(
  proxy: EvotorProxy,
  request: Request,
  route: EvotorProxyHandler<EvotorProxyHeader>,
): Response | Promise<Response> {
  try {
    const incoming = incomingOf(request)
    const admission = admitFetch(proxy, request, incoming)
    return admission instanceof Promise
      ? admission.then((admitted) => proceed(proxy, request, incoming, route, admitted))
      : proceed(proxy, request, incoming, route, admission)
  } catch (error) {
    return Promise.reject(error)
  }
}

/** {@link serveProxiedFetch} once the request is admitted (or answered). */
function proceed(
  proxy: EvotorProxy,
  request: Request,
  incoming: NodeIncoming | undefined,
  route: EvotorProxyHandler<EvotorProxyHeader>,
  { context, answer }: ProxyAdmission,
): Response | Promise<Response> {
  if (answer !== undefined) return toResponse(request, answer)
  setEvotorContext(incoming ?? request, context)
  // The proxy answered 400 already when a required header was missing.
  return runProxiedRoute(proxy, request, context as EvotorProxyContext<EvotorProxyHeader>, route)
}

/** Ver. 2: an `EvotorError` a route throws answers its Evotor body; anything else rejects. */
function answerRouteError(proxy: EvotorProxy, request: Request, error: unknown): Response | Promise<never> {
  if (!isEvotorError(error)) return Promise.reject(error)
  return toResponse(request, proxy.errorResponse(error))
}

/**
 * Runs a verified request's route: ver. 2 passes its `Response` through, as it is when it is not a
 * promise (an `EvotorError` it throws or rejects with becomes the error answer); ver. 1 wraps every
 * outcome in the envelope.
 */
function runProxiedRoute(
  proxy: EvotorProxy,
  request: Request,
  context: EvotorProxyContext<EvotorProxyHeader>,
  route: EvotorProxyHandler<EvotorProxyHeader>,
): Response | Promise<Response> {
  if (proxy.proxyVersion === 1) return envelopedResponse(proxy, request, () => route(request, context))
  let routed: Response | Promise<Response>
  try {
    routed = route(request, context)
  } catch (error) {
    return answerRouteError(proxy, request, error)
  }
  return routed instanceof Response
    ? routed
    : Promise.resolve(routed).catch((error: unknown) => answerRouteError(proxy, request, error))
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

const NodeBuffer = (globalThis as { Buffer?: { byteLength(text: string, encoding: 'utf8'): number } }).Buffer

/** UTF-8 length of `text` without encoding it (lone surrogates count as U+FFFD, as encoders write them). */
function utf8Length(text: string): number {
  if (NodeBuffer !== undefined) return NodeBuffer.byteLength(text, 'utf8')
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

/** A route's own headers kept under the envelope: lower-case name and value pairs, in order. */
export type KeptHeaders = [name: string, value: string][]

/**
 * The answer as a `Response` (no body for HEAD, 204, 304), with `extra` headers under it (the answer's
 * own win over one of the same name). A string body with plain headers: `@hono/node-server` sends that
 * without building a Fetch `Headers` first or encoding the text twice.
 */
export function toResponse(request: Request, answer: WebhookResponse, extra?: KeptHeaders): Response {
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
  // One record (not pairs): `@hono/node-server` sends a record as it is, and builds a Fetch `Headers`
  // from pairs first. Pairs only when a name repeats (`set-cookie`), which a record cannot hold.
  const record: Record<string, string> = Object.create(null)
  for (const [name, value] of extra) {
    if (record[name] !== undefined) return withPairs(body, answer, length, extra)
    record[name] = value
  }
  Object.assign(record, answer.headers)
  if (length !== undefined) record['content-length'] = length
  return new Response(body, { status: answer.status, headers: record })
}

function withPairs(
  body: BodyInit | null,
  answer: WebhookResponse,
  length: string | undefined,
  extra: KeptHeaders,
): Response {
  const own = Object.entries(answer.headers)
  if (length !== undefined) own.push(['content-length', length])
  const headers = extra.filter(([name]) => !own.some(([ownName]) => ownName === name)).concat(own)
  return new Response(body, { status: answer.status, headers })
}

/** Reads a route's `Response` for the envelope; copies its headers except the inner-only ones into `kept`. */
export async function fetchInnerResponse(response: Response, kept: KeptHeaders): Promise<ProxyInnerResponse> {
  // A string body that `@hono/node-server` still holds as it was given (`c.json`, `c.text`).
  const light = lightweightResponse(response)
  if (light !== undefined) {
    let contentType: string | undefined
    for (const pair of light.headers) {
      if (pair[0] === 'content-type') contentType = pair[1]
      else if (!(INNER_ONLY_HEADERS as readonly string[]).includes(pair[0])) kept.push(pair)
    }
    return { status: light.status, body: light.body, contentType }
  }
  const body = new Uint8Array(await response.arrayBuffer())
  response.headers.forEach((value, name) => {
    if (!(INNER_ONLY_HEADERS as readonly string[]).includes(name)) kept.push([name, value])
  })
  return { status: response.status, body, contentType: response.headers.get('content-type') ?? undefined }
}

/** Hono's default `notFound` page (`404 Not Found`, text/plain): ver. 1 makes it `{}`, as Koa's and Express's. */
export async function isFrameworkNotFound(response: Response): Promise<boolean> {
  if (response.status !== 404) return false
  const light = lightweightResponse(response)
  const type =
    light === undefined ? response.headers.get('content-type') : pairValue(light.headers, 'content-type')
  if (!type?.startsWith('text/plain')) return false
  return (light?.body ?? (await response.clone().text())) === '404 Not Found'
}

function pairValue(pairs: readonly (readonly [string, string])[], name: string): string | undefined {
  for (const pair of pairs) if (pair[0] === name) return pair[1]
  return undefined
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

/** Ver. 1: the `{status, body}` envelope of the `Response` a route answered, or of what it threw (§7.4). */
export async function envelopedResponse(
  proxy: EvotorProxy,
  request: Request,
  answer: () => Response | Promise<Response>,
): Promise<Response> {
  const kept: KeptHeaders = []
  const inner = async () => fetchInnerResponse(await answer(), kept)
  return toResponse(request, await envelopeOf(proxy, inner), kept)
}
