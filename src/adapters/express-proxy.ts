/** The Express proxy middleware (flow A), and routes typed with the context it guarantees. */
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import type {
  DefaultRequiredHeaders,
  EvotorProxy,
  EvotorProxyContext,
  EvotorProxyHeader,
  EvotorProxyOptions,
  GuaranteedHeaders,
} from '../core/proxy.js'
import { resolveEvotorProxy } from '../core/proxy.js'
import { admitProxied, type ProxyAdmission } from '../core/serve-proxied.js'
import { catchAsyncRoutes } from './express-async.js'
import { attachContext } from './express-context.js'
import { envelopeResponses } from './express-envelope.js'
import { sendNode } from './express-io.js'

/**
 * An Express request that passed the proxy: `req.evotor` is there, and the ids the proxy requires
 * (`R`; all three by default) are `string`.
 *
 * @example
 * ```ts
 * import type { EvotorRequest } from 'evotor-partner/express'
 * const storeOf = (req: EvotorRequest<'storeUuid'>): string => req.evotor.storeUuid
 * ```
 */
export type EvotorRequest<R extends EvotorProxyHeader = never> = Request & { evotor: EvotorProxyContext<R> }

/**
 * A route behind {@link withEvotorProxy}. It may return a promise; a rejection goes to `next(err)`.
 *
 * @example
 * ```ts
 * import type { EvotorRequestHandler } from 'evotor-partner/express'
 * const receipts: EvotorRequestHandler = (req, res) => res.json(listReceipts(req.evotor.userId))
 * ```
 */
export type EvotorRequestHandler<R extends EvotorProxyHeader = never> = (
  req: EvotorRequest<R>,
  res: Response,
  next: NextFunction,
) => unknown

/**
 * Express (4 and 5) middleware for terminal-facing routes (flow A, protocol §2, §3.2): verifies the user
 * token, then the `X-Evotor-*` headers, and sets `req.evotor` (401/400 otherwise). `proxyVersion: 1`
 * wraps every response in the `{status, body}` envelope with HTTP 200 (§7.4). TRACE etc. answer 405.
 * Routes after it see `req.evotor` as optional; {@link withEvotorProxy} types it for one route.
 * Under Express 4 too, a rejected `async` route behind it goes to `next(err)`: mount `evotorErrorHandler()`.
 * @param proxy - `createEvotorProxy()`'s result, or its options.
 * @returns the middleware.
 * @throws TypeError when the proxy options are not valid.
 * @example
 * ```ts
 * app.use('/terminal', evotorProxy({ userTokens: tokens, proxyVersion: 1 }))
 * app.get('/terminal/receipts', (req, res) => res.json(listReceipts(requireEvotorContext(req).userId)))
 * ```
 */
export function evotorProxy(proxy: EvotorProxy | EvotorProxyOptions): RequestHandler {
  const resolved = resolveEvotorProxy(proxy)
  const proceed = (req: Request, res: Response, next: NextFunction, admission: ProxyAdmission) => {
    if (admission.answer !== undefined) return sendNode(res, admission.answer)
    attachContext(req, admission.context)
    if (resolved.proxyVersion === 1) envelopeResponses(req, res, resolved)
    catchAsyncRoutes(req)
    next()
  }
  return function evotorProxyMiddleware(req: Request, res: Response, next: NextFunction) {
    const admission = admitProxied(resolved, req.method, req.headers, 'node')
    // A cached token answers synchronously: next() runs in this tick, no promise.
    if (!(admission instanceof Promise)) return proceed(req, res, next, admission)
    admission.then((a) => proceed(req, res, next, a)).catch(next)
  }
}

/**
 * One terminal-facing route behind the proxy: {@link evotorProxy} then `handler`, which gets an
 * {@link EvotorRequest}: `req.evotor` is non-optional, and the ids of `requiredHeaders` (all three by
 * default) are `string`. A thrown error or a rejected promise goes to `next(err)`.
 * @param proxy - `createEvotorProxy()`'s result, or its options.
 * @param handler - the route.
 * @returns the middleware.
 * @throws TypeError when `handler` or the proxy options are not valid.
 * @example
 * ```ts
 * const proxy = createEvotorProxy({ userTokens: tokens, requiredHeaders: ['userId', 'storeUuid'] })
 * app.get('/terminal/stock', withEvotorProxy(proxy, (req, res) => res.json(stockOf(req.evotor.storeUuid))))
 * ```
 */
export function withEvotorProxy<C extends EvotorProxyContext>(
  proxy: EvotorProxy<C>,
  handler: (req: Request & { evotor: C }, res: Response, next: NextFunction) => unknown,
): RequestHandler
export function withEvotorProxy<const H extends readonly EvotorProxyHeader[] = DefaultRequiredHeaders>(
  proxy: EvotorProxyOptions & { requiredHeaders?: H },
  handler: EvotorRequestHandler<GuaranteedHeaders<H>>,
): RequestHandler
export function withEvotorProxy(
  proxy: EvotorProxy | EvotorProxyOptions,
  handler: (req: never, res: Response, next: NextFunction) => unknown,
): RequestHandler {
  if (typeof handler !== 'function') throw new TypeError('withEvotorProxy: handler must be a function')
  const route = handler as EvotorRequestHandler<EvotorProxyHeader>
  const middleware = evotorProxy(proxy)
  return function evotorProxiedRoute(req: Request, res: Response, next: NextFunction) {
    const proceed = (error?: unknown) => {
      if (error !== undefined && error !== null) return next(error)
      // The proxy answered 400 already when a required header was missing.
      const evotorRequest = req as EvotorRequest<EvotorProxyHeader>
      try {
        const result = route(evotorRequest, res, next)
        if (result instanceof Promise) result.catch(next)
      } catch (thrown) {
        next(thrown)
      }
    }
    middleware(req, res, proceed)
  }
}
