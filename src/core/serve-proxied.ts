/**
 * The proxy flow every adapter runs (flow A, protocol §2, §3.2, §7.4), written once: refuse methods
 * no proxied route serves, authenticate (synchronously when the token is cached), then either pass
 * the route's answer through (ver. 2) or wrap it in the `{status, body}` envelope (ver. 1).
 */
import { isEvotorError } from './evotor-error.js'
import type { HeadersLike, WebhookResponse } from './http-types.js'
import type { EvotorProxy, EvotorProxyContext } from './proxy.js'
import type { ProxyInnerResponse } from './proxy-envelope.js'
import { refuseProxiedMethod } from './request-guards.js'

/**
 * Headers of the inner response that do not describe the ver. 1 envelope (validators, framing,
 * and the policy header of framework error pages); the one list every adapter drops.
 */
export const INNER_ONLY_HEADERS = [
  // The first two are written over by the envelope's own (see dropInnerHeaders).
  'content-type',
  'content-length',
  'content-encoding',
  'transfer-encoding',
  'etag',
  'last-modified',
  'content-security-policy',
] as const

/** What {@link dropInnerHeaders} needs of a Node `ServerResponse`. */
interface OutgoingHeaders {
  getHeaderNames(): string[]
  removeHeader(name: string): void
}

/** The inner-only headers the envelope does not write over itself. */
const DROPPED_BEFORE_ENVELOPE: ReadonlySet<string> = new Set(INNER_ONLY_HEADERS.slice(2))

/**
 * Takes the inner-only headers off a Node response before the envelope is sent; the content type
 * and length are left for the envelope to write over. One look at the names the response holds
 * (already lower-case), and a header is removed only when it is there: each removal turns Node's
 * header map into a slower dictionary for the rest of the response.
 */
export function dropInnerHeaders(res: OutgoingHeaders): void {
  const names = res.getHeaderNames()
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string
    if (DROPPED_BEFORE_ENVELOPE.has(name)) res.removeHeader(name)
  }
}

/** Either the verified context, or the answer that refuses the request. */
export type ProxyAdmission =
  | { readonly context: EvotorProxyContext; readonly answer?: undefined }
  | { readonly context?: undefined; readonly answer: WebhookResponse }

async function admitSlowly(proxy: EvotorProxy, headers: HeadersLike): Promise<ProxyAdmission> {
  try {
    return { context: await proxy.authenticate(headers) }
  } catch (error) {
    return { answer: proxy.errorResponse(error) }
  }
}

/**
 * A 405 for TRACE, CONNECT and unknown methods, then the user token first and the `X-Evotor-*`
 * headers after it. Synchronous when the token's verification is cached: no promise before the route.
 * `origin: 'node'`: `headers` is Node's `IncomingMessage.headers` (see `authenticateCached`).
 */
export function admitProxied(
  proxy: EvotorProxy,
  method: string | undefined,
  headers: HeadersLike,
  origin?: 'node',
): ProxyAdmission | Promise<ProxyAdmission> {
  const refused = refuseProxiedMethod(method)
  if (refused !== undefined) return { answer: refused }
  let context: EvotorProxyContext | undefined
  try {
    context = proxy.authenticateCached?.(headers, origin)
  } catch (error) {
    return { answer: proxy.errorResponse(error) }
  }
  return context === undefined ? admitSlowly(proxy, headers) : { context }
}

/** The rest of the chain, started: what it throws synchronously becomes its rejection. */
function started(run: () => Promise<unknown>): Promise<unknown> {
  try {
    return run()
  } catch (error) {
    return Promise.reject(error)
  }
}

/**
 * Ver. 2: runs the route; a thrown `EvotorError` is answered through `answer`, anything else is
 * rethrown to the framework. One `then` on the route's promise and no async frame of its own (this
 * runs on every proxied request); what the route's promise resolved to passes through.
 */
export function passThrough(
  proxy: EvotorProxy,
  run: () => Promise<unknown>,
  answer: (response: WebhookResponse) => void,
): Promise<unknown> {
  return started(run).then(undefined, (error: unknown) => {
    if (!isEvotorError(error)) throw error
    answer(proxy.errorResponse(error))
  })
}

/** Ver. 1: the envelope of what the route answered, or of what it threw (protocol §7.4). */
export async function envelopeOf(
  proxy: EvotorProxy,
  run: () => Promise<ProxyInnerResponse>,
): Promise<WebhookResponse> {
  try {
    return proxy.envelope(await run())
  } catch (error) {
    return proxy.errorResponse(error)
  }
}

function envelopeNow(proxy: EvotorProxy, inner: ProxyInnerResponse): WebhookResponse {
  try {
    return proxy.envelope(inner)
  } catch (error) {
    return proxy.errorResponse(error)
  }
}

/**
 * Ver. 1 as {@link envelopeOf}, with no async frame of its own when the route's answer is at hand
 * (Koa: a body that is not a stream): once `run` (the rest of the middleware chain) settled, the
 * envelope of what `inner()` reads, or of what either threw, goes to `deliver` in the same callback.
 */
export function envelopeAfter(
  proxy: EvotorProxy,
  run: () => Promise<unknown>,
  inner: () => ProxyInnerResponse | Promise<ProxyInnerResponse>,
  deliver: (answer: WebhookResponse) => void,
): Promise<void> {
  const fail = (error: unknown): void => deliver(proxy.errorResponse(error))
  const now = (answer: ProxyInnerResponse): void => deliver(envelopeNow(proxy, answer))
  return started(run).then(() => {
    let answer: ProxyInnerResponse | Promise<ProxyInnerResponse>
    try {
      answer = inner()
    } catch (error) {
      return fail(error)
    }
    return answer instanceof Promise ? answer.then(now, fail) : now(answer)
  }, fail)
}

/**
 * The request headers a ver. 1 route may see: without `accept-encoding`, since the envelope's body
 * must be readable text and a compressor downstream would put gzip bytes in it.
 */
export function forEnvelope(headers: Record<string, unknown>): void {
  if (headers['accept-encoding'] !== undefined) delete headers['accept-encoding']
}
