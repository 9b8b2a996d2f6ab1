/**
 * The webhook flow every adapter runs, written once over an abstract I/O (design "Layers"): the
 * adapter says whether a body parser already read the body, or reads the raw bytes with the limit
 * and the clock; the one 413/408 path is here.
 */
import { isEvotorError } from './evotor-error.js'
import type { WebhookDispatcher, WebhookRequest, WebhookResponse } from './http-types.js'
import { resolveBodyLimit, resolveBodyTimeout } from './request-guards.js'
import { evotorErrorResponse } from './responses.js'

/**
 * How every webhook adapter reads a body (`evotorWebhooks` of Koa and Express, `createEvotorWebhooksHandler`).
 *
 * @example
 * ```ts
 * import { evotorWebhooks, type WebhookBodyOptions } from 'evotor-partner/koa'
 * const options: WebhookBodyOptions = { bodyLimit: 1024 * 1024, bodyTimeoutMs: 3000 }
 * app.use(evotorWebhooks(webhooks, options))
 * ```
 */
export interface WebhookBodyOptions {
  /** Largest body read, in bytes (default 10 MB, protocol §12); more answers 413. */
  bodyLimit?: number
  /**
   * Time for the body to arrive in full, in ms (default 5000: half the cloud's 10 s deadline is left
   * for the handler); a trickled or stalled body answers 408 with `Connection: close`.
   */
  bodyTimeoutMs?: number
}

/** One webhook request as an adapter sees it. */
export interface WebhookIO {
  method: string
  path: string
  query?: WebhookRequest['query']
  headers: WebhookRequest['headers']
  /**
   * The body: what a framework parser already produced (`{ body, parsedBody }`), or the raw bytes
   * read with `limit` and `timeoutMs` (rejecting with the 413/408 `EvotorError`).
   */
  body(limit: number, timeoutMs: number): Promise<{ body: unknown; parsedBody?: boolean }>
}

/** A webhook dispatcher with the adapter's body limits, checked once. */
export interface WebhookFlow {
  /** Whether the path is a webhook's; other requests go on to the app. */
  matches(path: string): boolean
  /** Reads the body (or answers 413/408) and hands the request to the dispatcher. */
  serve(io: WebhookIO): Promise<WebhookResponse>
}

/**
 * The webhook flow of an adapter named `where`: checks the dispatcher and the body options at
 * construction (TypeError naming them), then serves each request.
 */
export function createWebhookFlow(
  where: string,
  webhooks: WebhookDispatcher,
  options: WebhookBodyOptions = {},
): WebhookFlow {
  if (typeof webhooks?.matches !== 'function' || typeof webhooks.handle !== 'function') {
    throw new TypeError(`${where}: webhooks must be the object createEvotorWebhooks() returns`)
  }
  const limit = resolveBodyLimit(where, options.bodyLimit)
  const timeoutMs = resolveBodyTimeout(where, options.bodyTimeoutMs)
  return {
    matches: (path) => webhooks.matches(path),
    async serve(io) {
      let read: { body: unknown; parsedBody?: boolean }
      try {
        read = await io.body(limit, timeoutMs)
      } catch (error) {
        if (!isEvotorError(error)) throw error
        return evotorErrorResponse(error) // 413 or 408, with Connection: close
      }
      const { method, path, query, headers } = io
      const body = read.body
      const parsedBody = read.parsedBody === true
      // Two literals, not a spread: the same keys in the same order, without a copy per request.
      return webhooks.handle(
        query === undefined
          ? { method, path, headers, body, parsedBody }
          : { method, path, query, headers, body, parsedBody },
      )
    },
  }
}
