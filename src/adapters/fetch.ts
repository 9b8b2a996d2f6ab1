import { setEvotorContext } from '../core/evotor-context.js'
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
import { admitProxied } from '../core/serve-proxied.js'
import { createWebhookFlow, type WebhookBodyOptions } from '../core/serve-webhook.js'
import { type EvotorProxyHandler, runProxiedHandler, toResponse } from './fetch-io.js'
import { readWebBody } from './web-body.js'

export { createEvotorTrpcContext, getEvotorContext, requireEvotorContext } from '../core/evotor-context.js'
export { EvotorError, isEvotorError } from '../core/evotor-error.js'
export type { WebhookBodyOptions } from '../core/serve-webhook.js'
export type { EvotorProxyHandler } from './fetch-io.js'

/**
 * Options of {@link createEvotorWebhooksHandler}: `bodyLimit` (bytes, default 10 MB; more answers 413)
 * and `bodyTimeoutMs` (default 5000; a trickled or stalled body answers 408 with `Connection: close`).
 * @example `createEvotorWebhooksHandler(webhooks, { bodyLimit: 1024 * 1024 })`
 */
export type EvotorWebhooksHandlerOptions = WebhookBodyOptions

/**
 * A Fetch-style handler (`Request` -> `Response`) serving the Evotor webhooks, for Hono, Next.js route
 * handlers, Bun, Deno and Workers. Paths that are not webhooks answer 404 `{}`.
 * @param webhooks - what `createEvotorWebhooks()` returns.
 * @param options - body limit and time.
 * @returns the handler.
 * @throws TypeError when `webhooks` or an option is not valid.
 * @example `Bun.serve({ fetch: createEvotorWebhooksHandler(createEvotorWebhooks({ appCredential, handlers })) })`
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
): (request: Request) => Promise<Response>
export function withEvotorProxy<const H extends readonly EvotorProxyHeader[] = DefaultRequiredHeaders>(
  proxy: EvotorProxyOptions & { requiredHeaders?: H },
  handler: EvotorProxyHandler<GuaranteedHeaders<H>>,
): (request: Request) => Promise<Response>
export function withEvotorProxy(
  proxy: EvotorProxy | EvotorProxyOptions,
  handler: (request: Request, evotor: never) => Response | Promise<Response>,
): (request: Request) => Promise<Response> {
  if (typeof handler !== 'function') throw new TypeError('withEvotorProxy: handler must be a function')
  const resolved = resolveEvotorProxy(proxy)
  return async function evotorProxyHandler(request: Request): Promise<Response> {
    const admission = admitProxied(resolved, request.method, request.headers)
    const { context, answer } = admission instanceof Promise ? await admission : admission
    if (answer !== undefined) return toResponse(request, answer)
    setEvotorContext(request, context)
    return runProxiedHandler(resolved, request, context, handler as EvotorProxyHandler<EvotorProxyHeader>)
  }
}
