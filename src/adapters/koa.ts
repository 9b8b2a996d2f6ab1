import type { Context, Middleware, Next } from 'koa'
import { setEvotorContext } from '../core/evotor-context.js'
import type { WebhookDispatcher, WebhookResponse } from '../core/http-types.js'
import type { EvotorProxy, EvotorProxyContext, EvotorProxyOptions } from '../core/proxy.js'
import { resolveEvotorProxy } from '../core/proxy.js'
import {
  admitProxied,
  envelopeOf,
  forEnvelope,
  INNER_ONLY_HEADERS,
  passThrough,
} from '../core/serve-proxied.js'
import { createWebhookFlow, type WebhookBodyOptions } from '../core/serve-webhook.js'
import { koaInnerResponse } from './koa-inner.js'
import { nodeBody } from './node-body.js'

// Re-exported so `evotor-partner/koa` alone is enough, and `EvotorError` is the same class everywhere.
export { createEvotorTrpcContext, getEvotorContext, requireEvotorContext } from '../core/evotor-context.js'
export { EvotorError, isEvotorError } from '../core/evotor-error.js'

/**
 * Options of {@link evotorWebhooks}: `bodyLimit` (bytes, default 10 MB, protocol §12; more answers 413)
 * and `bodyTimeoutMs` (default 5000; a trickled or stalled body answers 408 and the connection closes).
 *
 * @example
 * ```ts
 * import { evotorWebhooks, type EvotorWebhooksMiddlewareOptions } from 'evotor-partner/koa'
 * const options: EvotorWebhooksMiddlewareOptions = { bodyLimit: 1024 * 1024 } // larger bodies answer 413
 * app.use(evotorWebhooks(webhooks, options))
 * ```
 */
export type EvotorWebhooksMiddlewareOptions = WebhookBodyOptions

declare module 'koa' {
  interface DefaultState {
    /** The verified proxy context, set by `evotorProxy()` of `evotor-partner/koa`. */
    evotor: EvotorProxyContext
  }
}

function send(ctx: Context, response: WebhookResponse): void {
  ctx.status = response.status
  for (const [name, value] of Object.entries(response.headers)) ctx.set(name, value)
  ctx.remove('Content-Encoding')
  ctx.body = response.body
  if (response.headers['content-type'] === undefined) ctx.remove('Content-Type')
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
    if (!flow.matches(ctx.path)) return next()
    const { method, path, query, headers } = ctx
    const request = ctx.request as { body?: unknown; rawBody?: unknown }
    const body = (limit: number, timeoutMs: number) => nodeBody(ctx.req, request, limit, timeoutMs)
    send(ctx, await flow.serve({ method, path, query, headers, body }))
  }
}

/**
 * Koa middleware for terminal-facing routes (flow A, protocol §2, §3.2): verifies the user token
 * first, then the `X-Evotor-*` headers, and puts the verified context in `ctx.state.evotor`; answers
 * 401/400 with the Evotor error body otherwise. With `proxyVersion: 1` every downstream outcome
 * (JSON, text, streams, 404, thrown errors) is wrapped in the `{status, body}` envelope (§7.4).
 * TRACE, CONNECT and unknown methods answer a plain 405 with `Allow`.
 *
 * @param proxy - `createEvotorProxy()`'s result, or its options.
 * @returns the middleware.
 * @throws TypeError when the proxy options are not valid.
 * @example
 * ```ts
 * router.use('/terminal', evotorProxy({ userTokens: tokens, proxyVersion: 1 }))
 * router.get('/terminal/receipts', (ctx) => {
 *   ctx.body = listReceipts(ctx.state.evotor.userId, ctx.state.evotor.storeUuid)
 * })
 * ```
 */
export function evotorProxy(proxy: EvotorProxy | EvotorProxyOptions): Middleware {
  const resolved = resolveEvotorProxy(proxy)

  async function proceed(ctx: Context, next: Next, context: EvotorProxyContext): Promise<void> {
    ctx.state.evotor = context
    setEvotorContext(ctx.req, context)
    if (resolved.proxyVersion === 2) {
      const answer = await passThrough(resolved, next)
      if (answer !== undefined) send(ctx, answer)
      return
    }
    forEnvelope(ctx.req.headers)
    const answer = await envelopeOf(resolved, () => next().then(() => koaInnerResponse(ctx)))
    for (const name of INNER_ONLY_HEADERS) ctx.remove(name)
    send(ctx, answer)
  }

  return function evotorProxyMiddleware(ctx: Context, next: Next): Promise<void> {
    const admission = admitProxied(resolved, ctx.method, ctx.headers)
    if (admission instanceof Promise) {
      return admission.then((a) =>
        a.answer === undefined ? proceed(ctx, next, a.context) : send(ctx, a.answer),
      )
    }
    if (admission.answer !== undefined) return Promise.resolve(send(ctx, admission.answer))
    return proceed(ctx, next, admission.context)
  }
}
