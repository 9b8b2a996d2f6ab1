import type { Context, Middleware, Next } from 'koa'
import { setEvotorContext } from '../core/evotor-context.js'
import { isEvotorError } from '../core/evotor-error.js'
import type { WebhookDispatcher, WebhookResponse } from '../core/http-types.js'
import {
  type EvotorProxy,
  type EvotorProxyContext,
  type EvotorProxyOptions,
  resolveEvotorProxy,
} from '../core/proxy.js'
import { refuseProxiedMethod, resolveBodyLimit, resolveBodyTimeout } from '../core/request-guards.js'
import { evotorErrorResponse } from '../core/responses.js'
import { bodyWasRead, preParsedBody, readNodeBody } from './node-body.js'

// Re-exported so `evotor-partner/<framework>` alone is enough, and `EvotorError` is the same class everywhere.
export { createEvotorTrpcContext, getEvotorContext, requireEvotorContext } from '../core/evotor-context.js'
export { EvotorError, isEvotorError } from '../core/evotor-error.js'

/**
 * Options of {@link evotorWebhooks}.
 *
 * @example
 * ```ts
 * import { evotorWebhooks, type EvotorWebhooksMiddlewareOptions } from 'evotor-partner/koa'
 * const options: EvotorWebhooksMiddlewareOptions = { bodyLimit: 1024 * 1024 } // larger bodies answer 413
 * app.use(evotorWebhooks(webhooks, options))
 * ```
 */
export interface EvotorWebhooksMiddlewareOptions {
  /** Largest body read, in bytes (default 10 MB, protocol §12); more answers 413. */
  bodyLimit?: number
  /**
   * Time for the body to arrive in full, in ms (default 5000: half the cloud's 10 s deadline is left
   * for the handler); a trickled or stalled body answers 408 and the connection is closed.
   */
  bodyTimeoutMs?: number
}

function send(ctx: Context, response: WebhookResponse): void {
  ctx.status = response.status
  for (const [name, value] of Object.entries(response.headers)) ctx.set(name, value)
  ctx.remove('Content-Encoding')
  ctx.body = response.body
  if (!Object.keys(response.headers).some((name) => name.toLowerCase() === 'content-type')) {
    ctx.remove('Content-Type')
  }
}

function assertDispatcher(webhooks: WebhookDispatcher): void {
  if (typeof webhooks?.matches !== 'function' || typeof webhooks.handle !== 'function') {
    throw new TypeError('evotorWebhooks: webhooks must be the object createEvotorWebhooks() returns')
  }
}

/**
 * Koa middleware serving the Evotor webhooks: requests to a webhook path go to the dispatcher,
 * every other request goes on to `next()`. Reads the body itself, or uses what koa-body already
 * parsed (mount it after koa-body, or before it so bad JSON still answers 400/2001).
 *
 * @example
 * ```ts
 * import Koa from 'koa'
 * import { createEvotorWebhooks } from 'evotor-partner'
 * import { evotorWebhooks } from 'evotor-partner/koa'
 *
 * const app = new Koa()
 * app.use(evotorWebhooks(createEvotorWebhooks({ appCredential, userTokens, handlers })))
 * app.listen(3000)
 * ```
 */
export function evotorWebhooks(
  webhooks: WebhookDispatcher,
  options: EvotorWebhooksMiddlewareOptions = {},
): Middleware {
  assertDispatcher(webhooks)
  const limit = resolveBodyLimit('evotorWebhooks', options.bodyLimit)
  const timeoutMs = resolveBodyTimeout('evotorWebhooks', options.bodyTimeoutMs)
  return async function evotorWebhooksMiddleware(ctx: Context, next: Next): Promise<void> {
    if (!webhooks.matches(ctx.path)) return next()
    const request = ctx.request as { body?: unknown; rawBody?: unknown }
    let body: unknown
    let parsedBody = false
    if (bodyWasRead(ctx.req)) {
      const parsed = request.body as Record<symbol, unknown> | undefined
      const unparsed = typeof parsed === 'object' ? parsed?.[Symbol.for('unparsedBody')] : undefined
      ;({ body, parsedBody } = preParsedBody(parsed, request.rawBody ?? unparsed))
    } else {
      try {
        body = await readNodeBody(ctx.req, limit, timeoutMs)
      } catch (error) {
        if (!isEvotorError(error)) throw error
        send(ctx, evotorErrorResponse(error))
        return
      }
    }
    const { method, path, query, headers } = ctx
    send(ctx, await webhooks.handle({ method, path, query, headers, body, parsedBody }))
  }
}

/** Bodies that must be read before they can be enveloped. */
function isStreamed(body: unknown): boolean {
  if (typeof body !== 'object' || body === null || body instanceof Uint8Array) return false
  return (
    typeof (body as NodeJS.ReadableStream).pipe === 'function' ||
    body instanceof Blob ||
    body instanceof ReadableStream ||
    body instanceof Response
  )
}

async function readStreamed(body: unknown): Promise<Uint8Array> {
  if (typeof (body as NodeJS.ReadableStream).pipe === 'function') {
    const chunks: Buffer[] = []
    for await (const chunk of body as AsyncIterable<Buffer | string>) chunks.push(Buffer.from(chunk))
    return Buffer.concat(chunks)
  }
  if (body instanceof Response) return new Uint8Array(await body.arrayBuffer())
  return new Uint8Array(await new Response(body as Blob | ReadableStream).arrayBuffer())
}

function contentTypeOf(ctx: Context): string | undefined {
  // `ctx.response.get()` copies every header (`res.getHeaders()`); one header is enough here.
  const type = ctx.res.getHeader('content-type')
  return typeof type === 'string' && type !== '' ? type : undefined
}

/**
 * Koa middleware for terminal-facing routes (flow A, protocol §2, §3.2): verifies the user token
 * first, then the `X-Evotor-*` headers, and puts the verified context in `ctx.state.evotor` (and
 * `getEvotorContext(ctx.req)`); answers 401/400 with the Evotor error body otherwise. With
 * `proxyVersion: 1` every downstream outcome (JSON, text, streams, 404, thrown errors) is wrapped in
 * the `{status, body}` envelope (protocol §7.4); ver. 2 leaves responses alone and only renders
 * thrown `EvotorError`s. Methods other than GET, HEAD, POST, PUT, PATCH, DELETE and OPTIONS (TRACE,
 * PROPFIND …) answer a plain 405 with `Allow` before anything else runs.
 *
 * @example
 * ```ts
 * import { evotorProxy } from 'evotor-partner/koa'
 *
 * router.use('/terminal', evotorProxy({ userTokens: tokens, proxyVersion: 1 }))
 * router.get('/terminal/receipts', (ctx) => {
 *   ctx.body = listReceipts(ctx.state.evotor.userId, ctx.state.evotor.storeUuid)
 * })
 * ```
 */
export function evotorProxy(proxy: EvotorProxy | EvotorProxyOptions): Middleware {
  const resolved = resolveEvotorProxy(proxy)

  async function authenticateThen(ctx: Context, next: Next): Promise<void> {
    let context: EvotorProxyContext
    try {
      context = await resolved.authenticate(ctx.headers)
    } catch (error) {
      send(ctx, resolved.errorResponse(error))
      return
    }
    return proceed(ctx, next, context)
  }

  async function proceed(ctx: Context, next: Next, context: EvotorProxyContext): Promise<void> {
    ctx.state.evotor = context
    setEvotorContext(ctx.req, context)
    if (resolved.proxyVersion === 2) {
      try {
        await next()
      } catch (error) {
        if (!isEvotorError(error)) throw error
        send(ctx, resolved.errorResponse(error))
      }
      return
    }
    let answer: WebhookResponse
    // The envelope's body must be readable text: a compressor downstream would put gzip bytes in it.
    delete ctx.req.headers['accept-encoding']
    try {
      await next()
      const contentType = contentTypeOf(ctx)
      let body: unknown = ctx.body
      // Nothing answered: Koa's own 404 (protocol §11 A27: `{}`).
      if (body === undefined || body === null) body = ctx.status === 404 ? {} : undefined
      else if (isStreamed(body)) body = await readStreamed(body)
      answer = resolved.envelope({ status: ctx.status, body, contentType })
    } catch (error) {
      answer = resolved.errorResponse(error)
    }
    // Validators of the inner body do not describe the envelope (Express and Fetch drop them too).
    ctx.remove('ETag')
    ctx.remove('Last-Modified')
    send(ctx, answer)
  }

  return function evotorProxyMiddleware(ctx: Context, next: Next): Promise<void> {
    const refused = refuseProxiedMethod(ctx.method)
    if (refused !== undefined) {
      send(ctx, refused)
      return Promise.resolve()
    }
    let context: EvotorProxyContext | undefined
    try {
      // A cached token answers synchronously: no promise before the route runs.
      context = resolved.authenticateCached?.(ctx.headers)
    } catch (error) {
      send(ctx, resolved.errorResponse(error))
      return Promise.resolve()
    }
    return context === undefined ? authenticateThen(ctx, next) : proceed(ctx, next, context)
  }
}
