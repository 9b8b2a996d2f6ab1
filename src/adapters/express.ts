import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express'
import { getEvotorContext } from '../core/evotor-context.js'
import { EvotorError } from '../core/evotor-error.js'
import type { WebhookDispatcher } from '../core/http-types.js'
import { type LoggerInput, toLogSink } from '../core/logger.js'
import type { EvotorProxyContext } from '../core/proxy.js'
import { evotorErrorResponse } from '../core/responses.js'
import { createWebhookFlow, type WebhookBodyOptions } from '../core/serve-webhook.js'
import { isClientError, sendNode, toEvotorError } from './express-io.js'
import { nodeBody } from './node-body.js'

export { createEvotorTrpcContext, getEvotorContext, requireEvotorContext } from '../core/evotor-context.js'
export { EvotorError, isEvotorError } from '../core/evotor-error.js'
export type { WebhookBodyOptions } from '../core/serve-webhook.js'
export type { EvotorRequest, EvotorRequestHandler } from './express-proxy.js'
export { evotorProxy, withEvotorProxy } from './express-proxy.js'

declare global {
  namespace Express {
    interface Request {
      /**
       * The verified proxy context, set by `evotorProxy()` of `evotor-partner/express`; absent on
       * routes the proxy does not guard (`withEvotorProxy` hands routes an `EvotorRequest` with it).
       */
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
    // `req.url` is relative to the mount point, like `req.path`.
    const url = new URL(req.url, 'http://localhost')
    if (!flow.matches(url.pathname)) return next()
    const body = (limit: number, timeoutMs: number) => nodeBody(req, req, limit, timeoutMs)
    const io = { method: req.method, path: url.pathname, query: url.searchParams, headers: req.headers, body }
    // Express 4 ignores returned promises: every failure must reach next(err).
    flow.serve(io).then(sendNode.bind(null, res)).catch(next)
  }
}

/**
 * Options of {@link evotorErrorHandler}: where a failed proxied request is logged (`logger`: pino,
 * `console` or a `(message, fields)` object; default `console`).
 * @example `app.use(evotorErrorHandler({ logger: pino() }))`
 */
export interface EvotorErrorHandlerOptions {
  /** Where other errors of requests behind `evotorProxy()` are logged (message and error name, no stack). */
  logger?: LoggerInput
}

/**
 * Express error middleware: `EvotorError`s get the Evotor error body, body-parser failures 400/2001 or
 * 413. Any other error of a request behind `evotorProxy()` (a bug in a route, a database down) is
 * logged and answers 500 `{}`, with no message or stack (Express's own page shows the stack outside
 * production). An http-errors style 4xx (`status` 400-499) and the errors of requests not behind
 * the proxy go on to the next error handler.
 * @param options - the logger (default `console`).
 * @returns the error middleware.
 * @example `app.use(evotorErrorHandler()) // after the routes`
 */
export function evotorErrorHandler(options: EvotorErrorHandlerOptions = {}): ErrorRequestHandler {
  const logger = toLogSink(options.logger ?? console)
  return function evotorErrorMiddleware(error: unknown, req: Request, res: Response, next: NextFunction) {
    if (res.headersSent) return next(error)
    const e = toEvotorError(error)
    if (e !== undefined) return sendNode(res, evotorErrorResponse(e))
    if (getEvotorContext(req) === undefined || isClientError(error)) return next(error)
    logger.error('evotor-partner: proxied request failed', {
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    })
    sendNode(res, evotorErrorResponse(EvotorError.internal(error)))
  }
}
