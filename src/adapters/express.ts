import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express'
import { setEvotorContext } from '../core/evotor-context.js'
import type { WebhookDispatcher } from '../core/http-types.js'
import type { EvotorProxy, EvotorProxyContext, EvotorProxyOptions } from '../core/proxy.js'
import { resolveEvotorProxy } from '../core/proxy.js'
import { evotorErrorResponse } from '../core/responses.js'
import { admitProxied, type ProxyAdmission } from '../core/serve-proxied.js'
import { createWebhookFlow, type WebhookBodyOptions } from '../core/serve-webhook.js'
import { catchAsyncRoutes } from './express-async.js'
import { envelopeResponses } from './express-envelope.js'
import { sendNode, toEvotorError } from './express-io.js'
import { nodeBody } from './node-body.js'

export { createEvotorTrpcContext, getEvotorContext, requireEvotorContext } from '../core/evotor-context.js'
export { EvotorError, isEvotorError } from '../core/evotor-error.js'
export type { WebhookBodyOptions } from '../core/serve-webhook.js'

declare global {
  namespace Express {
    interface Request {
      /** The verified proxy context, set by `evotorProxy()` of `evotor-partner/express`. */
      evotor?: EvotorProxyContext
    }
  }
}

/**
 * Options of {@link evotorWebhooks}: `bodyLimit` (bytes, default 10 MB; more answers 413) and
 * `bodyTimeoutMs` (default 5000; a trickled or stalled body answers 408 and the connection closes).
 * @example `app.use(evotorWebhooks(webhooks, { bodyLimit: 1024 * 1024 }))`
 */
export type EvotorWebhooksMiddlewareOptions = WebhookBodyOptions

/**
 * Express (4 and 5) middleware serving the Evotor webhooks; other paths go on to `next()`. Reads the
 * body itself, or uses what `express.json()`/`raw()`/`text()` produced; failures go to `next(err)`.
 * @param webhooks - what `createEvotorWebhooks()` returns.
 * @param options - body limit and time.
 * @returns the middleware.
 * @throws TypeError when `webhooks` or an option is not valid.
 * @example `app.use(evotorWebhooks(createEvotorWebhooks({ appCredential, userTokens, handlers })), evotorErrorHandler())`
 */
export function evotorWebhooks(
  webhooks: WebhookDispatcher,
  options: WebhookBodyOptions = {},
): RequestHandler {
  const flow = createWebhookFlow('evotorWebhooks', webhooks, options)
  return function evotorWebhooksMiddleware(req: Request, res: Response, next: NextFunction) {
    const url = new URL(req.url, 'http://localhost')
    if (!flow.matches(url.pathname)) return next()
    const body = (limit: number, timeoutMs: number) => nodeBody(req, req, limit, timeoutMs)
    const io = { method: req.method, path: url.pathname, query: url.searchParams, headers: req.headers, body }
    flow.serve(io).then(sendNode.bind(null, res)).catch(next)
  }
}

/**
 * Express error middleware: `EvotorError`s get the Evotor error body, body-parser failures 400/2001 or
 * 413; any other error goes on to the next error handler.
 * @returns the error middleware.
 * @example `app.use(evotorErrorHandler()) // after the routes`
 */
export function evotorErrorHandler(): ErrorRequestHandler {
  return function evotorErrorMiddleware(error: unknown, _req: Request, res: Response, next: NextFunction) {
    const e = toEvotorError(error)
    if (e === undefined || res.headersSent) return next(error)
    sendNode(res, evotorErrorResponse(e))
  }
}

/**
 * Express (4 and 5) middleware for terminal-facing routes (flow A, protocol §2, §3.2): verifies the user
 * token, then the `X-Evotor-*` headers, and sets `req.evotor` (401/400 otherwise). `proxyVersion: 1`
 * wraps every response in the `{status, body}` envelope with HTTP 200 (§7.4). TRACE etc. answer 405.
 * Under Express 4 too, a rejected `async` route behind it goes to `next(err)`: mount {@link evotorErrorHandler}.
 * @param proxy - `createEvotorProxy()`'s result, or its options.
 * @returns the middleware.
 * @throws TypeError when the proxy options are not valid.
 * @example
 * ```ts
 * app.use('/terminal', evotorProxy({ userTokens: tokens, proxyVersion: 1 }))
 * app.get('/terminal/receipts', (req, res) => res.json(listReceipts(req.evotor!.userId)))
 * ```
 */
export function evotorProxy(proxy: EvotorProxy | EvotorProxyOptions): RequestHandler {
  const resolved = resolveEvotorProxy(proxy)
  const proceed = (req: Request, res: Response, next: NextFunction, admission: ProxyAdmission) => {
    if (admission.answer !== undefined) return sendNode(res, admission.answer)
    req.evotor = admission.context
    setEvotorContext(req, admission.context)
    if (resolved.proxyVersion === 1) envelopeResponses(req, res, resolved)
    catchAsyncRoutes(req)
    next()
  }
  return function evotorProxyMiddleware(req: Request, res: Response, next: NextFunction) {
    const admission = admitProxied(resolved, req.method, req.headers)
    // A cached token answers synchronously: next() runs in this tick, no promise.
    if (!(admission instanceof Promise)) return proceed(req, res, next, admission)
    admission.then((a) => proceed(req, res, next, a)).catch(next)
  }
}
