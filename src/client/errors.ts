/**
 * The one error of the outbound client. It never holds a token: the message is built from the
 * method, the path, the status and Evotor's own `code`/`message`, and any copy of the token that
 * Evotor might echo is masked before it is stored.
 */

/**
 * Which token a request used: the user's cloud token (from `user/token`) or the publisher key.
 *
 * @example
 * ```ts
 * const kind: EvotorTokenKind = 'cloud'
 * ```
 */
export type EvotorTokenKind = 'cloud' | 'publisher'

/**
 * One violation of a 400/409/422 answer.
 *
 * @example
 * ```ts
 * const v: EvotorApiViolation = { reason: 'missing', subject: 'items[0].id' }
 * ```
 */
export interface EvotorApiViolation {
  reason?: string
  subject?: string
}

/**
 * How many times a request was tried and how long the client waited between tries.
 *
 * @example
 * ```ts
 * if (error.retry.retryAfterMs !== undefined) scheduleLater(error.retry.retryAfterMs)
 * ```
 */
export interface EvotorRetryInfo {
  /** Requests sent, the failing one included (0 when refused before sending). */
  attempts: number
  /** Total time spent waiting between attempts, in milliseconds. */
  waitedMs: number
  /** For 429: how long Evotor asked to wait before the next try. */
  retryAfterMs?: number
}

/**
 * `X-RateLimit-*` headers of an answer (per token and URI; `resetSeconds` until the window resets).
 *
 * @example
 * ```ts
 * const low = (r: EvotorRateLimit) => r.remaining !== undefined && r.remaining < 5
 * ```
 */
export interface EvotorRateLimit {
  limit?: number
  remaining?: number
  resetSeconds?: number
}

/**
 * Machine-readable codes the client sets when Evotor did not send one.
 *
 * @example
 * ```ts
 * if (error.code === 'rate_limited') console.log(error.retry.retryAfterMs)
 * ```
 */
export type EvotorClientErrorCode =
  | 'unauthorized'
  | 'forbidden'
  | 'rate_limited'
  | 'timeout'
  | 'network_error'
  | 'invalid_request'
  | 'invalid_response'
  | 'bulk_timeout'
  | 'http_error'

/**
 * Constructor options of {@link EvotorApiError}.
 *
 * @example
 * ```ts
 * new EvotorApiError({ status: 404, code: 'not_found', method: 'GET', path: '/stores/x', message: 'no such store' })
 * ```
 */
export interface EvotorApiErrorOptions {
  status: number
  code: string
  method: string
  path: string
  message: string
  violations?: EvotorApiViolation[]
  retry?: EvotorRetryInfo
  rateLimit?: EvotorRateLimit
  tokenKind?: EvotorTokenKind
  scope?: string
  cause?: unknown
}

const BRAND = Symbol.for('evotor-partner.EvotorApiError')

/**
 * A failed call to the Evotor cloud: an HTTP error answer, a timeout, a network error, a rate
 * limit that outlasted the retry budget, or a request refused before sending (`status` 0).
 *
 * @example
 * ```ts
 * try {
 *   await client.products.bulkUpsert(storeId, items)
 * } catch (error) {
 *   if (isEvotorApiError(error) && error.status === 403) console.error(error.message, error.scope)
 * }
 * ```
 */
export class EvotorApiError extends Error {
  /** HTTP status; 0 when there was no answer (timeout, network) or nothing was sent. */
  readonly status: number
  /** Evotor's string code (`unknown_device` …) or an {@link EvotorClientErrorCode}. */
  readonly code: string
  readonly method: string
  /** Path and query of the request (never the token: it only travels in a header). */
  readonly path: string
  readonly violations: readonly EvotorApiViolation[]
  readonly retry: EvotorRetryInfo
  readonly rateLimit: EvotorRateLimit | undefined
  /** On 401/403: which token Evotor refused. */
  readonly tokenKind: EvotorTokenKind | undefined
  /** On 403: the scope this endpoint needs (`product:write` …). */
  readonly scope: string | undefined
  /** Whether trying again later may succeed (429, 5xx, timeouts, network errors). */
  readonly retryable: boolean

  constructor(options: EvotorApiErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'EvotorApiError'
    this.status = options.status
    this.code = options.code
    this.method = options.method
    this.path = options.path
    this.violations = options.violations ?? []
    this.retry = options.retry ?? { attempts: 0, waitedMs: 0 }
    this.rateLimit = options.rateLimit
    this.tokenKind = options.tokenKind
    this.scope = options.scope
    this.retryable =
      options.status === 429 ||
      options.status >= 500 ||
      options.code === 'timeout' ||
      options.code === 'network_error'
    Object.defineProperty(this, BRAND, { value: true })
  }
}

/**
 * Whether `value` is an {@link EvotorApiError}, across the ESM and CJS builds.
 *
 * @param value - anything caught.
 * @returns `true` for an error thrown by the Evotor client.
 * @example
 * ```ts
 * if (isEvotorApiError(error) && error.retryable) queueForLater(job)
 * ```
 */
export function isEvotorApiError(value: unknown): value is EvotorApiError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true
}
