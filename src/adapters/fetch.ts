import { EvotorError } from '../core/evotor-error.js'
import type { WebhookDispatcher } from '../core/http-types.js'
import type {
  DefaultRequiredHeaders,
  EvotorProxy,
  EvotorProxyContext,
  GuaranteedHeaders,
} from '../core/proxy.js'
import { type EvotorProxyHeader, type EvotorProxyOptions, resolveEvotorProxy } from '../core/proxy.js'
import { evotorErrorResponse } from '../core/responses.js'
import { createWebhookFlow } from '../core/serve-webhook.js'
import {
  type EvotorProxyHandler,
  type EvotorWebhooksHandlerOptions,
  serveProxiedFetch,
  serveWebRequest,
  toResponse,
} from './fetch-io.js'

export { createEvotorTrpcContext, getEvotorContext, requireEvotorContext } from '../core/evotor-context.js'
export { EvotorError, isEvotorError } from '../core/evotor-error.js'
export type { WebhookBodyOptions } from '../core/serve-webhook.js'
export type { EvotorProxyHandler, EvotorWebhooksHandlerOptions } from './fetch-io.js'

/**
 * A Fetch-style handler (`Request` -> `Response`) serving the Evotor webhooks, for Next.js route
 * handlers, Bun, Deno and Workers (Hono: `evotor-partner/hono`). Other paths answer 404 `{}`, or
 * with `fallthrough: true` resolve to `undefined` so the app answers them.
 * @param webhooks - what `createEvotorWebhooks()` returns.
 * @param options - body limit and time, `fallthrough`.
 * @returns the handler.
 * @throws TypeError when `webhooks` or an option is not valid.
 * @example
 * ```ts
 * const evotor = createEvotorWebhooksHandler(createEvotorWebhooks({ appCredential, handlers }), { fallthrough: true })
 * Bun.serve({ fetch: async (request) => (await evotor(request)) ?? app.fetch(request) })
 * ```
 */
export function createEvotorWebhooksHandler(
  webhooks: WebhookDispatcher,
  options: EvotorWebhooksHandlerOptions & { fallthrough: true },
): (request: Request) => Promise<Response | undefined>
export function createEvotorWebhooksHandler(
  webhooks: WebhookDispatcher,
  options?: EvotorWebhooksHandlerOptions & { fallthrough?: false },
): (request: Request) => Promise<Response>
export function createEvotorWebhooksHandler(
  webhooks: WebhookDispatcher,
  options: EvotorWebhooksHandlerOptions = {},
): (request: Request) => Promise<Response | undefined> {
  const flow = createWebhookFlow('createEvotorWebhooksHandler', webhooks, options)
  const fallthrough = options.fallthrough ?? false
  if (typeof fallthrough !== 'boolean')
    throw new TypeError('createEvotorWebhooksHandler: fallthrough must be a boolean')
  return async function evotorWebhooksHandler(request: Request): Promise<Response | undefined> {
    const path = new URL(request.url).pathname
    if (flow.matches(path)) return serveWebRequest(flow, request, path)
    return fallthrough ? undefined : toResponse(request, evotorErrorResponse(EvotorError.notFound()))
  }
}

/**
 * Wraps a Fetch-style handler for terminal-facing routes (flow A, protocol §2, §3.2): verifies the user
 * token first, then the `X-Evotor-*` headers, and passes the verified context to the handler (also
 * `getEvotorContext(request)`). With `proxyVersion: 1` every outcome is wrapped in the `{status, body}`
 * envelope (§7.4). TRACE, CONNECT and unknown methods answer 405 before the handler runs. Returns the
 * handler's `Response` as it is (not a promise) when the token's check is cached and the handler
 * answers at once; `await` it, as every Fetch runtime does. A handler's error that is not an
 * `EvotorError` rejects.
 * @param proxy - `createEvotorProxy()`'s result, or its options.
 * @param handler - the route.
 * @returns the wrapped handler.
 * @throws TypeError when `handler` or the proxy options are not valid.
 * @example
 * ```ts
 * export const GET = withEvotorProxy({ userTokens: tokens }, async (request, evotor) => Response.json({ userId: evotor.userId }))
 * ```
 */
export function withEvotorProxy<C extends EvotorProxyContext>(
  proxy: EvotorProxy<C>,
  handler: (request: Request, evotor: C) => Response | Promise<Response>,
): (request: Request) => Response | Promise<Response>
export function withEvotorProxy<const H extends readonly EvotorProxyHeader[] = DefaultRequiredHeaders>(
  proxy: EvotorProxyOptions & { requiredHeaders?: H },
  handler: EvotorProxyHandler<GuaranteedHeaders<H>>,
): (request: Request) => Response | Promise<Response>
export function withEvotorProxy(
  proxy: EvotorProxy | EvotorProxyOptions,
  handler: (request: Request, evotor: never) => Response | Promise<Response>,
): (request: Request) => Response | Promise<Response> {
  if (typeof handler !== 'function') throw new TypeError('withEvotorProxy: handler must be a function')
  const resolved = resolveEvotorProxy(proxy)
  const route = handler as EvotorProxyHandler<EvotorProxyHeader>
  return function evotorProxyHandler(request: Request): Response | Promise<Response> {
    return serveProxiedFetch(resolved, request, route)
  }
}
