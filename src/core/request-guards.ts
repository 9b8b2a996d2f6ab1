/**
 * What every adapter refuses before any application code runs: bodies over the size limit (413),
 * bodies that do not arrive in time (408), and methods no proxied route serves (405). Runtime-neutral:
 * the Node stream side is in `node-body.ts`, the Fetch stream side in `web-body.ts`.
 */
import { EvotorError } from './evotor-error.js'
import { DEFAULT_BODY_LIMIT, type WebhookResponse } from './http-types.js'
import { evotorErrorResponse } from './responses.js'

/**
 * Default time for a request body to arrive in full, from the moment the adapter starts reading it.
 * The cloud waits 10 s for an answer in all (protocol §5.1); after 5 s of upload the handler still has
 * the other half, and a 10 MB body (the cloud's largest, §12) needs far less on any working link.
 */
export const DEFAULT_BODY_TIMEOUT_MS = 5000

/**
 * Lingering close after an early answer (413, 408), as nginx's `lingering_time`/`lingering_timeout`:
 * the rest of the upload is read and dropped until it ends, `bytes` more have passed, nothing came for
 * `idleMs`, or `totalMs` have gone by; only then is the connection closed. A client that writes its
 * whole body before reading gets the answer instead of a reset, and no client holds the socket longer.
 */
export const LINGER = { bytes: 64 * 1024 * 1024, idleMs: 2000, totalMs: 10_000 } as const

/** Methods proxied routes serve (protocol §2.2 lists GET, POST, PUT, DELETE; the rest are HTTP's usual ones). */
const PROXIED_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const
const PROXIED = new Set<string>(PROXIED_METHODS)

const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * The `bodyLimit` option of an adapter: bytes, a positive integer; default 10 MB (protocol §12).
 *
 * @example
 * ```ts
 * const limit = resolveBodyLimit('evotorWebhooks', options.bodyLimit) // 10485760 when undefined
 * ```
 */
export function resolveBodyLimit(where: string, value: unknown): number {
  if (value === undefined) return DEFAULT_BODY_LIMIT
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new TypeError(`${where}: bodyLimit must be a positive integer (bytes)`)
  }
  return value
}

/**
 * The `bodyTimeoutMs` option of an adapter: milliseconds, a positive integer; default 5000.
 *
 * @example
 * ```ts
 * const timeoutMs = resolveBodyTimeout('evotorWebhooks', options.bodyTimeoutMs) // 5000 when undefined
 * ```
 */
export function resolveBodyTimeout(where: string, value: unknown): number {
  if (value === undefined) return DEFAULT_BODY_TIMEOUT_MS
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0 || value > MAX_TIMER_MS) {
    throw new TypeError(
      `${where}: bodyTimeoutMs must be a positive integer of milliseconds (at most ${MAX_TIMER_MS})`,
    )
  }
  return value
}

/**
 * 408 with body `{}` (no Evotor code fits) and `Connection: close`: the body did not arrive in time.
 *
 * @example
 * ```ts
 * throw bodyTimedOut(5000)
 * ```
 */
export function bodyTimedOut(timeoutMs: number): EvotorError {
  return new EvotorError(undefined, {
    status: 408,
    message: `Request body did not arrive within ${timeoutMs} ms`,
    headers: { connection: 'close' },
  })
}

/**
 * The 405 (with `Allow`, body `{}`) for a method no proxied route serves, before anything else
 * looks at the request: TRACE, CONNECT and unknown methods must never reach the app, where a Fetch
 * `Request` built from them throws (TRACE and CONNECT are forbidden there); `undefined` otherwise.
 * A plain 405 in ver. 1 as well: the cloud never sends these, so there is no envelope to keep.
 *
 * @example
 * ```ts
 * const refused = refuseProxiedMethod(req.method) // TRACE -> { status: 405, headers: { allow: … } … }
 * ```
 */
export function refuseProxiedMethod(method: string | undefined): WebhookResponse | undefined {
  if (method !== undefined && PROXIED.has(method)) return undefined
  return evotorErrorResponse(EvotorError.methodNotAllowed(PROXIED_METHODS))
}
