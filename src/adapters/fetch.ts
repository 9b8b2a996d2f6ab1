import { setEvotorContext } from '../core/evotor-context.js'
import { EvotorError, isEvotorError } from '../core/evotor-error.js'
import type { WebhookDispatcher, WebhookResponse } from '../core/http-types.js'
import {
  type EvotorProxy,
  type EvotorProxyContext,
  type EvotorProxyOptions,
  resolveEvotorProxy,
} from '../core/proxy.js'
import { evotorErrorResponse } from '../core/responses.js'
import { admitProxied, envelopeOf, INNER_ONLY_HEADERS } from '../core/serve-proxied.js'
import { createWebhookFlow, type WebhookBodyOptions } from '../core/serve-webhook.js'
import { readWebBody } from './web-body.js'

// Re-exported so `evotor-partner/fetch` alone is enough, and `EvotorError` is the same class everywhere.
export { createEvotorTrpcContext, getEvotorContext, requireEvotorContext } from '../core/evotor-context.js'
export { EvotorError, isEvotorError } from '../core/evotor-error.js'

/**
 * Options of {@link createEvotorWebhooksHandler}: `bodyLimit` (bytes, default 10 MB; more answers 413)
 * and `bodyTimeoutMs` (default 5000; a trickled or stalled body answers 408 with `Connection: close`).
 *
 * @example
 * ```ts
 * const options: EvotorWebhooksHandlerOptions = { bodyLimit: 1024 * 1024 } // larger bodies answer 413
 * ```
 */
export type EvotorWebhooksHandlerOptions = WebhookBodyOptions

/**
 * A Fetch-style route handler behind {@link withEvotorProxy}: gets the verified context.
 *
 * @example
 * ```ts
 * const handler: EvotorProxyHandler = async (_request, evotor) => Response.json({ userId: evotor.userId })
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
  const bodiless = answer.status === 204 || answer.status === 304
  if (!bodiless) headers.set('content-length', String(bytes.byteLength))
  const empty = request.method === 'HEAD' || bytes.byteLength === 0 || bodiless
  return new Response(empty ? null : bytes, { status: answer.status, headers })
}

/**
 * A Fetch-style handler (`Request` -> `Response`) serving the Evotor webhooks, for Hono, Next.js route
 * handlers, Bun, Deno and Workers. Paths that are not webhooks answer 404 `{}`.
 *
 * @param webhooks - what `createEvotorWebhooks()` returns.
 * @param options - body limit and time.
 * @returns the handler.
 * @throws TypeError when `webhooks` or an option is not valid.
 * @example
 * ```ts
 * Bun.serve({ port: 3000, fetch: createEvotorWebhooksHandler(createEvotorWebhooks({ appCredential, handlers })) })
 * ```
 */
export function createEvotorWebhooksHandler(
  webhooks: WebhookDispatcher,
  options: WebhookBodyOptions = {},
): (request: Request) => Promise<Response> {
  const flow = createWebhookFlow('createEvotorWebhooksHandler', webhooks, options)
  return async function evotorWebhooksHandler(request: Request): Promise<Response> {
    const url = new URL(request.url)
    if (!flow.matches(url.pathname)) return toResponse(request, evotorErrorResponse(EvotorError.notFound()))
    const body = async (limit: number, timeoutMs: number) => ({
      body: await readWebBody(request, limit, timeoutMs),
    })
    const { method, headers } = request
    return toResponse(
      request,
      await flow.serve({ method, path: url.pathname, query: url.searchParams, headers, body }),
    )
  }
}

/**
 * Wraps a Fetch-style handler for terminal-facing routes (flow A, protocol §2, §3.2): verifies the user
 * token first, then the `X-Evotor-*` headers, and passes the verified context to the handler (also
 * `getEvotorContext(request)`). With `proxyVersion: 1` every outcome is wrapped in the `{status, body}`
 * envelope (§7.4). TRACE, CONNECT and unknown methods answer 405 before the handler runs.
 *
 * @param proxy - `createEvotorProxy()`'s result, or its options.
 * @param handler - the route.
 * @returns the wrapped handler.
 * @throws TypeError when `handler` or the proxy options are not valid.
 * @example
 * ```ts
 * export const GET = withEvotorProxy({ userTokens: tokens }, async (request, evotor) => Response.json({ userId: evotor.userId }))
 * ```
 */
export function withEvotorProxy(
  proxy: EvotorProxy | EvotorProxyOptions,
  handler: EvotorProxyHandler,
): (request: Request) => Promise<Response> {
  if (typeof handler !== 'function') throw new TypeError('withEvotorProxy: handler must be a function')
  const resolved = resolveEvotorProxy(proxy)
  return async function evotorProxyHandler(request: Request): Promise<Response> {
    const admission = admitProxied(resolved, request.method, request.headers)
    const { context, answer } = admission instanceof Promise ? await admission : admission
    if (answer !== undefined) return toResponse(request, answer)
    setEvotorContext(request, context)
    if (resolved.proxyVersion === 2) {
      try {
        return await handler(request, context)
      } catch (error) {
        if (!isEvotorError(error)) throw error
        return toResponse(request, resolved.errorResponse(error))
      }
    }
    const kept = new Headers()
    const enveloped = await envelopeOf(resolved, async () => {
      const response = await handler(request, context)
      const body = new Uint8Array(await response.arrayBuffer())
      response.headers.forEach((value, name) => kept.append(name, value))
      for (const name of INNER_ONLY_HEADERS) kept.delete(name)
      return { status: response.status, body, contentType: response.headers.get('content-type') ?? undefined }
    })
    return toResponse(request, enveloped, kept)
  }
}
