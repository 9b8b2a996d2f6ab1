import type { Context, MiddlewareHandler, Next } from 'hono'
import { isEvotorError } from '../core/evotor-error.js'
import type { WebhookDispatcher } from '../core/http-types.js'
import { type EvotorProxy, type EvotorProxyOptions, resolveEvotorProxy } from '../core/proxy.js'
import type { ProxyAdmission } from '../core/serve-proxied.js'
import { createWebhookFlow, type WebhookBodyOptions } from '../core/serve-webhook.js'
import { serveWebRequest, toResponse } from './fetch-io.js'
import {
  admitHono,
  afterRoute,
  type EvotorEnv,
  enveloped,
  honoIncoming,
  noAnswer,
  replace,
  rethrow,
  storeHonoContext,
} from './hono-io.js'
import type { NodeIncoming } from './hono-node-server.js'

export { getEvotorContext, requireEvotorContext } from '../core/evotor-context.js'
export { EvotorError, isEvotorError } from '../core/evotor-error.js'
export type { WebhookBodyOptions } from '../core/serve-webhook.js'
export { type EvotorEnv, type EvotorVariables, evotorErrorHandler } from './hono-io.js'
export {
  type EvotorRouteEnv,
  type WithEvotorProxy,
  withEvotorProxy,
  withEvotorProxyFor,
} from './hono-route.js'

/**
 * Hono middleware serving the Evotor webhooks: a webhook path is answered here, every other request
 * goes on to `next()`. Reads the body itself (`bodyLimit`, default 10 MB; `bodyTimeoutMs`, default 5000).
 * @param webhooks - what `createEvotorWebhooks()` returns.
 * @param options - body limit and time.
 * @returns the middleware.
 * @throws TypeError when `webhooks` or an option is not valid.
 * @example `app.use(evotorWebhooks(createEvotorWebhooks({ appCredential, userTokens, handlers })))`
 */
export function evotorWebhooks(
  webhooks: WebhookDispatcher,
  options: WebhookBodyOptions = {},
): MiddlewareHandler {
  const flow = createWebhookFlow('evotorWebhooks', webhooks, options)
  return async function evotorWebhooksMiddleware(c, next) {
    if (!flow.matches(c.req.path)) return next()
    return serveWebRequest(flow, c.req.raw, c.req.path)
  }
}

/**
 * Hono middleware for terminal-facing routes (flow A, protocol §2, §3.2): verifies the user token, then
 * the `X-Evotor-*` headers, and sets `c.var.evotor` (401/400 otherwise). A thrown `EvotorError` answers
 * its Evotor body; `proxyVersion: 1` wraps every outcome in the `{status, body}` envelope (§7.4).
 * @param proxy - `createEvotorProxy()`'s result, or its options.
 * @returns the middleware.
 * @throws TypeError when the proxy options are not valid.
 * @example
 * ```ts
 * const app = new Hono<EvotorEnv>()
 * app.use('/terminal/*', evotorProxy({ userTokens: tokens }))
 * app.get('/terminal/me', (c) => c.json({ userId: c.var.evotor.userId }))
 * ```
 */
export function evotorProxy(proxy: EvotorProxy | EvotorProxyOptions): MiddlewareHandler<EvotorEnv> {
  const resolved = resolveEvotorProxy(proxy)
  function go(
    c: Context<EvotorEnv>,
    next: Next,
    incoming: NodeIncoming | undefined,
    a: ProxyAdmission,
  ): Promise<Response | undefined> {
    if (a.answer !== undefined) return Promise.resolve(toResponse(c.req.raw, a.answer))
    c.set('evotor', a.context)
    storeHonoContext(c, incoming, a.context)
    // Hono catches what a route throws (`c.error`, and `onError`'s answer in `c.res`).
    if (resolved.proxyVersion === 1) {
      return enveloped(resolved, c, () => next().then(() => rethrow(c.error))).then(noAnswer)
    }
    // Ver. 2: one `then`, no async frame of its own (it runs on every request); Hono answered other errors.
    return afterRoute(next, () => {
      if (isEvotorError(c.error)) replace(c, toResponse(c.req.raw, resolved.errorResponse(c.error)))
    })
  }
  return function evotorProxyMiddleware(c, next) {
    const incoming = honoIncoming(c)
    const admission = admitHono(resolved, c, incoming)
    return admission instanceof Promise
      ? admission.then((a) => go(c, next, incoming, a))
      : go(c, next, incoming, admission)
  }
}
