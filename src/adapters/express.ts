import { ServerResponse } from 'node:http'
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express'
import { setEvotorContext } from '../core/evotor-context.js'
import { EvotorError, isEvotorError } from '../core/evotor-error.js'
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

declare global {
  namespace Express {
    interface Request {
      /** The verified proxy context, set by `evotorProxy()` of `evotor-partner/express`. */
      evotor?: EvotorProxyContext
    }
  }
}

/**
 * Options of {@link evotorWebhooks}.
 *
 * @example
 * ```ts
 * import { evotorWebhooks, type EvotorWebhooksMiddlewareOptions } from 'evotor-partner/express'
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

function send(res: ServerResponse, response: WebhookResponse): void {
  res.statusCode = response.status
  for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value)
  res.setHeader('content-length', Buffer.byteLength(response.body))
  res.end(response.body)
}

/**
 * Express (4 and 5) middleware serving the Evotor webhooks: requests to a webhook path go to the
 * dispatcher, every other request goes on to `next()`. Reads the body itself, or uses what
 * `express.json()`, `express.raw()` or `express.text()` already produced; failures go to `next(err)`.
 *
 * @example
 * ```ts
 * import express from 'express'
 * import { createEvotorWebhooks } from 'evotor-partner'
 * import { evotorWebhooks, evotorErrorHandler } from 'evotor-partner/express'
 *
 * const app = express()
 * app.use(evotorWebhooks(createEvotorWebhooks({ appCredential, userTokens, handlers })))
 * app.use(evotorErrorHandler())
 * app.listen(3000)
 * ```
 */
export function evotorWebhooks(
  webhooks: WebhookDispatcher,
  options: EvotorWebhooksMiddlewareOptions = {},
): RequestHandler {
  if (typeof webhooks?.matches !== 'function' || typeof webhooks.handle !== 'function') {
    throw new TypeError('evotorWebhooks: webhooks must be the object createEvotorWebhooks() returns')
  }
  const limit = resolveBodyLimit('evotorWebhooks', options.bodyLimit)
  const timeoutMs = resolveBodyTimeout('evotorWebhooks', options.bodyTimeoutMs)

  async function handle(req: Request, res: Response, url: URL): Promise<void> {
    let body: unknown
    let parsedBody = false
    if (bodyWasRead(req)) {
      ;({ body, parsedBody } = preParsedBody(req.body, (req as { rawBody?: unknown }).rawBody))
    } else {
      try {
        body = await readNodeBody(req, limit, timeoutMs)
      } catch (error) {
        if (!isEvotorError(error)) throw error
        send(res, evotorErrorResponse(error))
        return
      }
    }
    const { method, headers } = req
    send(
      res,
      await webhooks.handle({
        method,
        path: url.pathname,
        query: url.searchParams,
        headers,
        body,
        parsedBody,
      }),
    )
  }

  return function evotorWebhooksMiddleware(req: Request, res: Response, next: NextFunction): void {
    // `req.url` is relative to the mount point, like `req.path`.
    const url = new URL(req.url, 'http://localhost')
    if (!webhooks.matches(url.pathname)) {
      next()
      return
    }
    // Express 4 ignores returned promises: every failure must reach next(err).
    handle(req, res, url).catch(next)
  }
}

function toEvotorError(error: unknown): EvotorError | undefined {
  if (isEvotorError(error)) return error
  const { type, limit } = (error ?? {}) as { type?: unknown; limit?: unknown }
  // body-parser (`express.json()` …) failures, when it is mounted before the webhooks.
  if (type === 'entity.parse.failed') return EvotorError.syntax()
  if (type === 'entity.too.large') return EvotorError.payloadTooLarge(typeof limit === 'number' ? limit : 0)
  return undefined
}

/**
 * Express error middleware that answers `EvotorError`s (thrown by routes, webhooks or
 * `requireEvotorContext`) with the Evotor error body, and body-parser failures with 400/2001 or
 * 413; any other error goes on to the next error handler.
 *
 * @example
 * ```ts
 * app.use(express.json(), evotorWebhooks(webhooks))
 * app.use(evotorErrorHandler()) // after the routes
 * ```
 */
export function evotorErrorHandler(): ErrorRequestHandler {
  return function evotorErrorMiddleware(
    error: unknown,
    _req: Request,
    res: Response,
    next: NextFunction,
  ): void {
    const e = toEvotorError(error)
    if (e === undefined || res.headersSent) {
      next(error)
      return
    }
    send(res, evotorErrorResponse(e))
  }
}

type Chunk = string | Uint8Array | null | undefined
type Callback = (error?: Error | null) => void

// Express's final handler (and `serve-static`'s redirects) answer in HTML with this policy header,
// with a stack trace outside production: in ver. 1 that page becomes `{}` (as in Koa and Fetch).
function isFrameworkPage(res: ServerResponse): boolean {
  const type = String(res.getHeader('content-type') ?? '')
  return res.getHeader('content-security-policy') === "default-src 'none'" && type.startsWith('text/html')
}

const ENVELOPE = Symbol('evotor-partner.envelope')

type Writers = Pick<ServerResponse, 'writeHead' | 'write' | 'end'>

/** Per-response state of the ver. 1 envelope, kept on `res` under a symbol. */
interface EnvelopeState {
  readonly proxy: EvotorProxy
  /** `res.writeHead`/`write`/`end` before the patch (another middleware's, or the prototype's). */
  readonly original: Writers
  /** Whether they were own properties of `res` (to put back rather than delete). */
  readonly own: boolean
  /** The envelope is being sent: calls pass through to `original` (also via later patches). */
  sending: boolean
  chunks: (string | Buffer)[]
  encodings: (BufferEncoding | undefined)[]
}

type Enveloped = ServerResponse & { [ENVELOPE]?: EnvelopeState | undefined }

const PATCHED = ['writeHead', 'write', 'end'] as const
// Headers of the inner response that do not describe the envelope.
const INNER_ONLY = [
  'content-length',
  'content-encoding',
  'transfer-encoding',
  'etag',
  'last-modified',
  'content-security-policy',
]

function collect(state: EnvelopeState, chunk: Chunk, encoding: BufferEncoding | undefined): void {
  if (chunk === null || chunk === undefined) return
  state.chunks.push(typeof chunk === 'string' || Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk))
  state.encodings.push(encoding)
}

/** The collected body: a single string or Buffer as it came, several joined into one Buffer. */
function collected(state: EnvelopeState): string | Buffer {
  const { chunks, encodings } = state
  const first = chunks[0]
  if (chunks.length === 1 && first !== undefined) {
    if (typeof first !== 'string') return first
    const encoding = encodings[0]
    if (encoding === undefined || encoding === 'utf8' || encoding === 'utf-8') return first
  }
  return Buffer.concat(
    chunks.map((chunk, i) => (typeof chunk === 'string' ? Buffer.from(chunk, encodings[i]) : chunk)),
  )
}

/** Where a call goes when the envelope is not collecting: the methods `res` had before. */
function passthrough(res: Enveloped): Writers {
  return res[ENVELOPE]?.original ?? ServerResponse.prototype
}

/** Takes our methods off `res` where they are still ours; later patches by others stay. */
function restore(res: Enveloped, state: EnvelopeState): void {
  res[ENVELOPE] = undefined
  const patched = res as Partial<Writers>
  for (const name of PATCHED) {
    if (patched[name] !== OURS[name]) continue
    if (state.own) (patched as Record<string, unknown>)[name] = state.original[name]
    else delete patched[name]
  }
}

/** Whether another middleware patched `res` after us (its methods wrap ours). */
function patchedOver(res: Enveloped): boolean {
  return res.end !== OURS.end || res.write !== OURS.write || res.writeHead !== OURS.writeHead
}

function envelopeWriteHead(this: Enveloped, status: number, ...rest: unknown[]): Enveloped {
  const state = this[ENVELOPE]
  if (state === undefined || state.sending) {
    return passthrough(this).writeHead.apply(this, [status, ...rest] as never) as Enveloped
  }
  this.statusCode = status
  const headers = typeof rest[0] === 'string' ? rest[1] : rest[0]
  if (Array.isArray(headers)) {
    const flat = headers.flat() as string[]
    for (let i = 0; i + 1 < flat.length; i += 2) this.setHeader(flat[i] as string, flat[i + 1] as string)
  } else if (headers !== undefined && headers !== null) {
    for (const [name, value] of Object.entries(headers)) {
      if (value !== undefined) this.setHeader(name, value as string)
    }
  }
  return this
}

function envelopeWrite(
  this: Enveloped,
  chunk: Chunk,
  encoding?: BufferEncoding | Callback,
  callback?: Callback,
): boolean {
  const state = this[ENVELOPE]
  if (state === undefined || state.sending) {
    return passthrough(this).write.apply(this, [chunk, encoding, callback] as never)
  }
  collect(state, chunk, typeof encoding === 'string' ? encoding : undefined)
  const done = typeof encoding === 'function' ? encoding : callback
  if (done !== undefined) process.nextTick(done)
  return true
}

function envelopeEnd(
  this: Enveloped,
  chunk?: Chunk | Callback,
  encoding?: BufferEncoding | Callback,
  callback?: Callback,
): Enveloped {
  const state = this[ENVELOPE]
  if (state === undefined || state.sending) {
    return passthrough(this).end.apply(this, [chunk, encoding, callback] as never) as Enveloped
  }
  if (typeof chunk !== 'function') collect(state, chunk, typeof encoding === 'string' ? encoding : undefined)
  const done = typeof chunk === 'function' ? chunk : typeof encoding === 'function' ? encoding : callback
  const framework = isFrameworkPage(this)
  const contentType = framework ? 'application/json' : this.getHeader('content-type')?.toString()
  const body = framework ? {} : collected(state)
  const answer = state.proxy.envelope({ status: this.statusCode, body, contentType })
  for (const name of INNER_ONLY) this.removeHeader(name)
  if (patchedOver(this)) {
    // Sent through `res` as it is now, so the patches added after ours still see the answer.
    state.sending = true
    send(this, answer)
    restore(this, state)
  } else {
    restore(this, state)
    send(this, answer)
  }
  if (done !== undefined) this.once('finish', done)
  return this
}

const OURS = {
  writeHead: envelopeWriteHead,
  write: envelopeWrite,
  end: envelopeEnd,
} as unknown as Writers

/** Buffers whatever the downstream writes, then sends it as one ver. 1 envelope (protocol §7.4). */
function envelopeResponses(res: Enveloped, proxy: EvotorProxy): void {
  // Mounted twice on one request (app and router): one envelope, not a lost answer.
  if (res[ENVELOPE] !== undefined) return
  res[ENVELOPE] = {
    proxy,
    original: { writeHead: res.writeHead, write: res.write, end: res.end },
    own: Object.hasOwn(res, 'end') || Object.hasOwn(res, 'write') || Object.hasOwn(res, 'writeHead'),
    sending: false,
    chunks: [],
    encodings: [],
  }
  res.writeHead = OURS.writeHead
  res.write = OURS.write
  res.end = OURS.end
}

/**
 * Express (4 and 5) middleware for terminal-facing routes (flow A, protocol §2, §3.2): verifies the
 * user token first, then the `X-Evotor-*` headers, and sets `req.evotor` (and
 * `getEvotorContext(req)`); answers 401/400 with the Evotor error body otherwise. With
 * `proxyVersion: 1` every downstream response is wrapped in the `{status, body}` envelope with HTTP
 * 200 (protocol §7.4): JSON, text, Express's own 404 and the output of error handlers. Mount
 * {@link evotorErrorHandler} after the routes to answer thrown `EvotorError`s with Evotor bodies.
 * Methods other than GET, HEAD, POST, PUT, PATCH, DELETE and OPTIONS (TRACE, PROPFIND …) answer a
 * plain 405 with `Allow` before anything else runs.
 *
 * @example
 * ```ts
 * import { evotorProxy, evotorErrorHandler } from 'evotor-partner/express'
 *
 * app.use('/terminal', evotorProxy({ userTokens: tokens, proxyVersion: 1 }))
 * app.get('/terminal/receipts', (req, res) => {
 *   res.json(listReceipts(req.evotor!.userId, req.evotor!.storeUuid))
 * })
 * app.use(evotorErrorHandler())
 * ```
 */
export function evotorProxy(proxy: EvotorProxy | EvotorProxyOptions): RequestHandler {
  const resolved = resolveEvotorProxy(proxy)
  const accept = (req: Request, res: Response, context: EvotorProxyContext): void => {
    req.evotor = context
    setEvotorContext(req, context)
    if (resolved.proxyVersion === 1) {
      // The envelope's body must be readable text: a compressor downstream would put gzip bytes in it.
      delete req.headers['accept-encoding']
      envelopeResponses(res, resolved)
    }
  }
  return function evotorProxyMiddleware(req: Request, res: Response, next: NextFunction): void {
    const refused = refuseProxiedMethod(req.method)
    if (refused !== undefined) {
      send(res, refused)
      return
    }
    let context: EvotorProxyContext | undefined
    try {
      // A cached token answers synchronously: next() runs in this tick, no promise.
      context = resolved.authenticateCached?.(req.headers)
    } catch (error) {
      send(res, resolved.errorResponse(error))
      return
    }
    if (context !== undefined) {
      accept(req, res, context)
      next()
      return
    }
    resolved
      .authenticate(req.headers)
      .then(
        (verified) => {
          accept(req, res, verified)
          next()
        },
        (error: unknown) => send(res, resolved.errorResponse(error)),
      )
      .catch(next)
  }
}
