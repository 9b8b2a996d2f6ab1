/**
 * The framework-neutral request/response shapes that the dispatcher and every adapter share
 * (the octokit/webhooks.js pattern: adapters only read headers, read the body, send a result).
 */

/**
 * Header containers the library accepts: Fetch `Headers`, Node's `IncomingHttpHeaders`, plain objects, maps.
 *
 * @example
 * ```ts
 * import { type HeadersLike } from 'evotor-partner'
 * const headers: HeadersLike = { 'x-evotor-user-id': '01-000000000000001' }
 * getHeader(headers, 'X-Evotor-User-Id') // '01-000000000000001'
 * ```
 */
export type HeadersLike =
  | Headers
  | Readonly<Record<string, string | readonly string[] | number | undefined>>
  | ReadonlyMap<string, string | readonly string[]>
  | Iterable<readonly [string, string]>

/**
 * A request as the dispatcher sees it.
 *
 * @example
 * ```ts
 * import type { WebhookRequest } from 'evotor-partner'
 * const request: WebhookRequest = { method: 'PUT', path: '/api/v1/inventories/stores', headers, body }
 * const answer = await webhooks.handle(request)
 * ```
 */
export interface WebhookRequest {
  /** HTTP method, any case. */
  method: string
  /** Path without the query string (`/api/v1/user/create`). */
  path: string
  /** Query parameters; repeated keys as arrays. */
  query?: Readonly<Record<string, string | readonly string[] | undefined>> | URLSearchParams
  headers: HeadersLike
  /**
   * The body: raw bytes or text (parsed here, bad JSON -> 400/2001), or a value a body parser
   * already produced (`parsedBody: true`).
   */
  body?: string | Uint8Array | unknown
  /** Set when `body` is already parsed JSON (koa-body, `express.json()`). */
  parsedBody?: boolean
}

/**
 * The dispatcher's answer: adapters send it as is.
 *
 * @example
 * ```ts
 * import type { WebhookResponse } from 'evotor-partner'
 * const answer: WebhookResponse = await webhooks.handle(request)
 * res.writeHead(answer.status, answer.headers).end(answer.body)
 * ```
 */
export interface WebhookResponse {
  status: number
  headers: Record<string, string>
  /** JSON text, or `''` for no body. */
  body: string
}

/**
 * What adapters need from `createEvotorWebhooks()`: route matching and the one dispatcher.
 *
 * @example
 * ```ts
 * import { createEvotorWebhooks, type WebhookDispatcher } from 'evotor-partner'
 * const dispatcher: WebhookDispatcher = createEvotorWebhooks({ appCredential, userTokens, handlers })
 * if (dispatcher.matches(path)) answer = await dispatcher.handle({ method, path, headers, body })
 * ```
 */
export interface WebhookDispatcher {
  /** Whether `path` (no query string) belongs to a webhook route, for any method. Adapters pass other paths on. */
  matches(path: string): boolean
  /** Answers one webhook delivery. Never rejects: every failure becomes an Evotor error response. */
  handle(request: WebhookRequest): Promise<WebhookResponse>
}

/**
 * Default body limit of the adapters: the Evotor cloud itself accepts requests up to 10 MB (protocol §12).
 *
 * @example
 * ```ts
 * app.use(evotorWebhooks(webhooks, { bodyLimit: 2 * DEFAULT_BODY_LIMIT })) // 20 MB
 * ```
 */
export const DEFAULT_BODY_LIMIT = 10 * 1024 * 1024
