import type { Context, Middleware, Next } from 'koa'
import { setEvotorContext } from '../core/evotor-context.js'
import type { WebhookDispatcher } from '../core/http-types.js'
import {
  type EvotorProxy,
  type EvotorProxyContext,
  type EvotorProxyOptions,
  resolveEvotorProxy,
} from '../core/proxy.js'
import * as flowA from '../core/serve-proxied.js'
import { createWebhookFlow, type WebhookBodyOptions } from '../core/serve-webhook.js'
import { koaInnerResponse, send, sendEnvelope } from './koa-io.js'
import { nodeBody } from './node-body.js'

export { createEvotorTrpcContext, getEvotorContext, requireEvotorContext } from '../core/evotor-context.js'
export { EvotorError, isEvotorError } from '../core/evotor-error.js'
export type { WebhookBodyOptions } from '../core/serve-webhook.js'

/**
 * Options of {@link evotorWebhooks}: `bodyLimit` (bytes, default 10 MB; more answers 413) and
 * `bodyTimeoutMs` (default 5000; a trickled or stalled body answers 408 and the connection closes).
 *
 * @example
 * ```ts
 * app.use(evotorWebhooks(webhooks, { bodyLimit: 1024 * 1024 } satisfies EvotorWebhooksMiddlewareOptions))
 * ```
 */
export type EvotorWebhooksMiddlewareOptions = WebhookBodyOptions

declare module 'koa' {
  interface DefaultState {
    /** The verified proxy context, set by `evotorProxy()` of `evotor-partner/koa`. */
    evotor: EvotorProxyContext
  }
}

/**
 * Koa middleware serving the Evotor webhooks: requests to a webhook path go to the dispatcher, every
 * other request goes on to `next()`. Reads the body itself, or uses what koa-body already parsed.
 *
 * @param webhooks - what `createEvotorWebhooks()` returns.
 * @param options - body limit and time; see {@link EvotorWebhooksMiddlewareOptions}.
 * @returns the middleware.
 * @throws TypeError when `webhooks` or an option is not valid.
 * @example
 * ```ts
 * app.use(evotorWebhooks(createEvotorWebhooks({ appCredential, userTokens, handlers })))
 * ```
 */
export function evotorWebhooks(webhooks: WebhookDispatcher, options: WebhookBodyOptions = {}): Middleware {
  const flow = createWebhookFlow('evotorWebhooks', webhooks, options)
  return async function evotorWebhooksMiddleware(ctx: Context, next: Next): Promise<void> {
    const path = ctx.path // read once: a getter that parses the URL
    if (!flow.matches(path)) return next()
    const request = ctx.request as { body?: unknown; rawBody?: unknown }
    const body = (limit: number, timeoutMs: number) => nodeBody(ctx.req, request, limit, timeoutMs)
    send(ctx, await flow.serve({ method: ctx.method, path, query: ctx.query, headers: ctx.headers, body }))
  }
}

/**
 * Koa middleware for terminal-facing routes (flow A, protocol §2, §3.2): verifies the user token, then
 * the `X-Evotor-*` headers, and puts the verified context in `ctx.state.evotor` (401/400 otherwise).
 * `proxyVersion: 1` wraps every outcome (JSON, text, streams, 404, thrown errors) in the `{status, body}`
 * envelope (§7.4). TRACE, CONNECT and unknown methods answer 405 with `Allow`.
 *
 * @param proxy - `createEvotorProxy()`'s result, or its options.
 * @returns the middleware.
 * @throws TypeError when the proxy options are not valid.
 * @example
 * ```ts
 * router.use('/terminal', evotorProxy({ userTokens: tokens, proxyVersion: 1 }))
 * router.get('/terminal/receipts', (ctx) => { ctx.body = listReceipts(ctx.state.evotor.userId) })
 * ```
 */
export function evotorProxy(proxy: EvotorProxy | EvotorProxyOptions): Middleware {
  const resolved = resolveEvotorProxy(proxy)
  function enveloped(ctx: Context, next: Next): Promise<void> {
    flowA.forEnvelope(ctx.req.headers)
    const inner = () => koaInnerResponse(ctx)
    return flowA.envelopeAfter(resolved, next, inner, (answer) => sendEnvelope(ctx, answer))
  }
  function go(ctx: Context, next: Next, a: flowA.ProxyAdmission): Promise<void> {
    if (a.answer !== undefined) return Promise.resolve(send(ctx, a.answer))
    ctx.state.evotor = a.context
    setEvotorContext(ctx.req, a.context)
    if (resolved.proxyVersion === 1) return enveloped(ctx, next)
    // Ver. 2: no async frame between this middleware and the route (it runs on every request).
    return flowA.passThrough(resolved, next, (answer) => send(ctx, answer)) as Promise<void>
  }
  return function evotorProxyMiddleware(ctx: Context, next: Next): Promise<void> {
    // A cached token answers synchronously: no promise before the route runs.
    const admission = flowA.admitProxied(resolved, ctx.method, ctx.req.headers, 'node')
    return admission instanceof Promise ? admission.then((a) => go(ctx, next, a)) : go(ctx, next, admission)
  }
}
