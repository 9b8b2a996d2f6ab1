import { setEvotorContext } from '../core/evotor-context.js'
import { EvotorError, isEvotorError } from '../core/evotor-error.js'
import type { WebhookDispatcher, WebhookResponse } from '../core/http-types.js'
import {
  type EvotorProxy,
  type EvotorProxyContext,
  type EvotorProxyOptions,
  resolveEvotorProxy,
} from '../core/proxy.js'
import { refuseProxiedMethod, resolveBodyLimit, resolveBodyTimeout } from '../core/request-guards.js'
import { evotorErrorResponse } from '../core/responses.js'
import { readWebBody } from './web-body.js'

// Re-exported so `evotor-partner/<framework>` alone is enough, and `EvotorError` is the same class everywhere.
export { createEvotorTrpcContext, getEvotorContext, requireEvotorContext } from '../core/evotor-context.js'
export { EvotorError, isEvotorError } from '../core/evotor-error.js'

/**
 * Options of {@link createEvotorWebhooksHandler}.
 *
 * @example
 * ```ts
 * import { createEvotorWebhooksHandler, type EvotorWebhooksHandlerOptions } from 'evotor-partner/fetch'
 * const options: EvotorWebhooksHandlerOptions = { bodyLimit: 1024 * 1024 } // larger bodies answer 413
 * const handler = createEvotorWebhooksHandler(webhooks, options)
 * ```
 */
export interface EvotorWebhooksHandlerOptions {
  /** Largest body read, in bytes (default 10 MB, protocol §12); more answers 413. */
  bodyLimit?: number
  /**
   * Time for the body to arrive in full, in ms (default 5000: half the cloud's 10 s deadline is left
   * for the handler); a trickled or stalled body answers 408 with `Connection: close`.
   */
  bodyTimeoutMs?: number
}

/**
 * A Fetch-style route handler behind {@link withEvotorProxy}: gets the verified context.
 *
 * @example
 * ```ts
 * import { type EvotorProxyHandler, withEvotorProxy } from 'evotor-partner/fetch'
 * const handler: EvotorProxyHandler = async (_request, evotor) => Response.json({ userId: evotor.userId })
 * export const GET = withEvotorProxy({ userTokens: tokens }, handler)
 * ```
 */
export type EvotorProxyHandler = (
  request: Request,
  evotor: EvotorProxyContext,
) => Response | Promise<Response>

const encoder = new TextEncoder()

function toResponse(request: Request, answer: WebhookResponse, extra?: Headers): Response {
  const headers = new Headers(extra)
  for (const [name, value] of Object.entries(answer.headers)) headers.set(name, value)
  const bytes = encoder.encode(answer.body)
  if (answer.status !== 204 && answer.status !== 304) headers.set('content-length', String(bytes.byteLength))
  const empty =
    request.method === 'HEAD' || bytes.byteLength === 0 || answer.status === 204 || answer.status === 304
  return new Response(empty ? null : bytes, { status: answer.status, headers })
}

/**
 * A Fetch-style handler (`Request` -> `Response`) serving the Evotor webhooks, for Hono, Next.js
 * route handlers, Bun, Deno and Workers. Paths that are not webhooks answer 404 `{}`.
 *
 * @example
 * ```ts
 * import { createEvotorWebhooks } from 'evotor-partner'
 * import { createEvotorWebhooksHandler } from 'evotor-partner/fetch'
 *
 * const handler = createEvotorWebhooksHandler(createEvotorWebhooks({ appCredential, userTokens, handlers }))
 * Bun.serve({ port: 3000, fetch: handler })
 * ```
 */
export function createEvotorWebhooksHandler(
  webhooks: WebhookDispatcher,
  options: EvotorWebhooksHandlerOptions = {},
): (request: Request) => Promise<Response> {
  if (typeof webhooks?.matches !== 'function' || typeof webhooks.handle !== 'function') {
    throw new TypeError(
      'createEvotorWebhooksHandler: webhooks must be the object createEvotorWebhooks() returns',
    )
  }
  const limit = resolveBodyLimit('createEvotorWebhooksHandler', options.bodyLimit)
  const timeoutMs = resolveBodyTimeout('createEvotorWebhooksHandler', options.bodyTimeoutMs)
  return async function evotorWebhooksHandler(request: Request): Promise<Response> {
    const url = new URL(request.url)
    if (!webhooks.matches(url.pathname))
      return toResponse(request, evotorErrorResponse(EvotorError.notFound()))
    let body: Uint8Array
    try {
      body = await readWebBody(request, limit, timeoutMs)
    } catch (error) {
      if (!isEvotorError(error)) throw error
      return toResponse(request, evotorErrorResponse(error))
    }
    const { method, headers } = request
    return toResponse(
      request,
      await webhooks.handle({ method, path: url.pathname, query: url.searchParams, headers, body }),
    )
  }
}

const DROPPED = [
  'content-type',
  'content-length',
  'content-encoding',
  'transfer-encoding',
  'etag',
  'last-modified',
]

/**
 * Wraps a Fetch-style handler for terminal-facing routes (flow A, protocol §2, §3.2): verifies the
 * user token first, then the `X-Evotor-*` headers, and passes the verified context to the handler
 * (also `getEvotorContext(request)`, for a tRPC `createContext`); answers 401/400 with the Evotor
 * error body otherwise. With `proxyVersion: 1` every outcome, thrown errors included, is wrapped in
 * the `{status, body}` envelope (protocol §7.4); ver. 2 returns the handler's response as is and
 * only renders thrown `EvotorError`s. Methods other than GET, HEAD, POST, PUT, PATCH, DELETE and
 * OPTIONS (TRACE, PROPFIND …) answer a plain 405 with `Allow` before the handler runs.
 *
 * @example
 * ```ts
 * import { withEvotorProxy } from 'evotor-partner/fetch'
 *
 * export const GET = withEvotorProxy({ userTokens: tokens, proxyVersion: 1 }, async (request, evotor) =>
 *   Response.json(await listReceipts(evotor.userId, evotor.storeUuid)),
 * )
 * ```
 */
export function withEvotorProxy(
  proxy: EvotorProxy | EvotorProxyOptions,
  handler: EvotorProxyHandler,
): (request: Request) => Promise<Response> {
  if (typeof handler !== 'function') throw new TypeError('withEvotorProxy: handler must be a function')
  const resolved = resolveEvotorProxy(proxy)
  return async function evotorProxyHandler(request: Request): Promise<Response> {
    const refused = refuseProxiedMethod(request.method)
    if (refused !== undefined) return toResponse(request, refused)
    let context: EvotorProxyContext
    try {
      context =
        resolved.authenticateCached?.(request.headers) ?? (await resolved.authenticate(request.headers))
    } catch (error) {
      return toResponse(request, resolved.errorResponse(error))
    }
    setEvotorContext(request, context)
    if (resolved.proxyVersion === 2) {
      try {
        return await handler(request, context)
      } catch (error) {
        if (!isEvotorError(error)) throw error
        return toResponse(request, resolved.errorResponse(error))
      }
    }
    let response: Response
    try {
      response = await handler(request, context)
      const body = new Uint8Array(await response.arrayBuffer())
      const contentType = response.headers.get('content-type') ?? undefined
      const kept = new Headers(response.headers)
      for (const name of DROPPED) kept.delete(name)
      return toResponse(request, resolved.envelope({ status: response.status, body, contentType }), kept)
    } catch (error) {
      return toResponse(request, resolved.errorResponse(error))
    }
  }
}
