/**
 * One HTTP call to the Evotor cloud, with the rules of evotor-cloud-api.md §1: the v2 media types,
 * the token header, rate limits (429 + `Retry-After` / `X-RateLimit-Reset`), retries of idempotent
 * calls on network errors and 502/503/504, a per-token concurrency limit, a timeout per attempt,
 * the caller's `AbortSignal`, and `Warning` headers passed to the logger.
 */

import type { LogSink } from '../core/logger.js'
import { compactForWire } from '../protocol/cloud.js'
import {
  EvotorApiError,
  type EvotorApiViolation,
  type EvotorRateLimit,
  type EvotorRetryInfo,
  type EvotorTokenKind,
} from './errors.js'
import type { TokenLimiter } from './limiter.js'

/** @internal */
export const V2_MEDIA_TYPE = 'application/vnd.evotor.v2+json'
/** @internal */
export const V2_BULK_MEDIA_TYPE = 'application/vnd.evotor.v2+bulk+json'

/**
 * Where the client logs: a pino logger or `console` as they are (recognised, see `toLogSink`),
 * or a plain object whose methods take `(details, message)` as pino's and bunyan's do.
 *
 * @example
 * ```ts
 * const logger: EvotorClientLogger = pino() // or console, or { warn: (details, message) => … }
 * ```
 */
export interface EvotorClientLogger {
  /** `Warning` headers of Evotor's answers. */
  warn(details: Record<string, unknown>, message: string): void
  /** Retries, with the status and the wait. */
  debug?(details: Record<string, unknown>, message: string): void
}

/**
 * Time as the client sees it; tests pass a clock that records waits instead of sleeping.
 *
 * @example
 * ```ts
 * const waits: number[] = []
 * const clock: EvotorClientClock = { now: Date.now, sleep: async (ms) => void waits.push(ms) }
 * ```
 */
export interface EvotorClientClock {
  /** Epoch milliseconds. */
  now(): number
  /** Resolves after `ms`; rejects with `signal.reason` when the signal aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

/** @internal The resolved options one call runs with. */
export interface TransportConfig {
  baseUrl: string
  fetch: typeof fetch
  dispatcher: object | undefined
  authHeader: 'authorization' | 'x-authorization'
  timeoutMs: number
  maxAttempts: number
  maxWaitMs: number
  backoffMs: number
  jitterMs: number
  /** The `logger` option as a sink (pino, console, or a plain `(details, message)` object). */
  logger: LogSink
  clock: EvotorClientClock
  limiter: TokenLimiter
  userAgent: string
}

/** @internal What one API method asks for. */
export interface CallSpec {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  /** Path with its segments already encoded, without the query. */
  path: string
  query?: Record<string, string | number | undefined>
  body?: unknown
  bulk?: boolean
  token: string
  tokenKind: EvotorTokenKind
  scope?: string
  signal?: AbortSignal | undefined
  accept?: string
}

/** @internal */
export interface CallResult {
  status: number
  body: unknown
  rateLimit: EvotorRateLimit | undefined
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'])
const RETRY_STATUSES = new Set([502, 503, 504])

/** The default clock: real time, abortable sleeps. */
export const systemClock: EvotorClientClock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason)
        return
      }
      const onAbort = (): void => {
        clearTimeout(timer)
        reject(signal?.reason)
      }
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      }, ms)
      signal?.addEventListener('abort', onAbort, { once: true })
    }),
}

function buildQuery(query: CallSpec['query']): string {
  if (query === undefined) return ''
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) params.append(key, String(value))
  }
  const text = params.toString()
  return text === '' ? '' : `?${text}`
}

const headerNumber = (headers: Headers, name: string): number | undefined => {
  const raw = headers.get(name)
  if (raw === null || raw.trim() === '') return undefined
  const n = Number(raw)
  return Number.isFinite(n) ? n : undefined
}

/** @internal */
export function readRateLimit(headers: Headers): EvotorRateLimit | undefined {
  const limit = headerNumber(headers, 'x-ratelimit-limit')
  const remaining = headerNumber(headers, 'x-ratelimit-remaining')
  const resetSeconds = headerNumber(headers, 'x-ratelimit-reset')
  if (limit === undefined && remaining === undefined && resetSeconds === undefined) return undefined
  return {
    ...(limit === undefined ? {} : { limit }),
    ...(remaining === undefined ? {} : { remaining }),
    ...(resetSeconds === undefined ? {} : { resetSeconds }),
  }
}

/** `Retry-After` in milliseconds (seconds or an HTTP date). @internal */
export function retryAfterMs(headers: Headers, now: number): number | undefined {
  const retryAfter = headers.get('retry-after')
  if (retryAfter === null || retryAfter.trim() === '') return undefined
  const seconds = Number(retryAfter)
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000)
  const date = Date.parse(retryAfter)
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined
}

/**
 * How long a 429 asks to wait: `Retry-After`, else `X-RateLimit-Reset` (seconds until the window
 * resets; a value that looks like an epoch is read as one).
 * @internal
 */
export function rateLimitWaitMs(headers: Headers, now: number): number | undefined {
  const asked = retryAfterMs(headers, now)
  if (asked !== undefined) return asked
  const reset = headerNumber(headers, 'x-ratelimit-reset')
  if (reset === undefined || reset < 0) return undefined
  return reset > 1e9 ? Math.max(0, reset * 1000 - now) : Math.ceil(reset * 1000)
}

const mask = (text: string, token: string): string => (token === '' ? text : text.split(token).join('***'))

function hint(status: number, spec: CallSpec): string {
  const token = spec.tokenKind === 'cloud' ? 'the user’s cloud token' : 'the publisher token'
  if (status === 401) {
    return spec.tokenKind === 'cloud'
      ? `${token} was refused (bad or expired): wait for a new user/token webhook for this user`
      : `${token} was refused (bad or expired): check the publisher access key`
  }
  return spec.scope === undefined
    ? `${token} lacks a scope this call needs`
    : `${token} lacks the scope ${spec.scope}: the app must request it and the user must grant it`
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text()
  if (text === '') return undefined
  try {
    return JSON.parse(text) as unknown
  } catch {
    return text.slice(0, 200)
  }
}

function errorFromAnswer(
  status: number,
  body: unknown,
  spec: CallSpec,
  where: string,
  retry: EvotorRetryInfo,
  rateLimit: EvotorRateLimit | undefined,
): EvotorApiError {
  const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {}
  const evotorCode =
    typeof fields.code === 'string' || typeof fields.code === 'number' ? String(fields.code) : ''
  const evotorMessage = typeof fields.message === 'string' ? fields.message.slice(0, 500) : ''
  const violations: EvotorApiViolation[] = Array.isArray(fields.violations)
    ? fields.violations.slice(0, 50).map((v: unknown) => {
        const item = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>
        return {
          ...(typeof item.reason === 'string' ? { reason: mask(item.reason, spec.token) } : {}),
          ...(typeof item.subject === 'string' ? { subject: mask(item.subject, spec.token) } : {}),
        }
      })
    : []
  const fallback =
    status === 401
      ? 'unauthorized'
      : status === 403
        ? 'forbidden'
        : status === 429
          ? 'rate_limited'
          : 'http_error'
  const auth = status === 401 || status === 403
  const detail = auth ? hint(status, spec) : evotorMessage
  const text = `Evotor answered ${status} to ${where}${evotorCode === '' ? '' : ` (${evotorCode})`}${detail === '' ? '' : `: ${detail}`}`
  return new EvotorApiError({
    status,
    code: evotorCode === '' ? fallback : mask(evotorCode, spec.token),
    method: spec.method,
    path: where.slice(spec.method.length + 1),
    message: mask(text, spec.token),
    violations,
    retry,
    ...(rateLimit === undefined ? {} : { rateLimit }),
    ...(auth ? { tokenKind: spec.tokenKind } : {}),
    ...(status === 403 && spec.scope !== undefined ? { scope: spec.scope } : {}),
  })
}

type Attempt =
  | { kind: 'answer'; response: Response; body: unknown }
  | { kind: 'failure'; code: 'timeout' | 'network_error'; cause: unknown }

async function attempt(
  config: TransportConfig,
  spec: CallSpec,
  url: string,
  init: RequestInit,
): Promise<Attempt> {
  // A controller and a cleared timer, not AbortSignal.timeout(): no timer outlives the attempt.
  const timeout = new AbortController()
  const timer = setTimeout(() => timeout.abort(new Error('timeout')), config.timeoutMs)
  const signal = spec.signal === undefined ? timeout.signal : AbortSignal.any([spec.signal, timeout.signal])
  try {
    const response = await config.fetch(url, { ...init, signal })
    // The body is read inside the attempt: the timeout and the concurrency slot cover it too.
    const body = await readBody(response)
    return { kind: 'answer', response, body }
  } catch (error) {
    if (spec.signal?.aborted) throw spec.signal.reason
    const timedOut = timeout.signal.aborted
    return { kind: 'failure', code: timedOut ? 'timeout' : 'network_error', cause: error }
  } finally {
    clearTimeout(timer)
  }
}

function requestInit(config: TransportConfig, spec: CallSpec): RequestInit {
  const headers: Record<string, string> = {
    accept: spec.accept ?? V2_MEDIA_TYPE,
    'user-agent': config.userAgent,
  }
  if (config.authHeader === 'authorization') headers.authorization = `Bearer ${spec.token}`
  else headers['x-authorization'] = spec.token
  const init: RequestInit & { dispatcher?: object } = { method: spec.method, headers }
  if (spec.body !== undefined) {
    headers['content-type'] = spec.bulk ? V2_BULK_MEDIA_TYPE : (spec.accept ?? V2_MEDIA_TYPE)
    init.body = JSON.stringify(compactForWire(spec.body))
  }
  if (config.dispatcher !== undefined) init.dispatcher = config.dispatcher
  return init
}

function backoff(config: TransportConfig, attempts: number): number {
  return config.backoffMs * 2 ** (attempts - 1) + Math.random() * config.jitterMs
}

/**
 * Sends one API call and returns its parsed JSON body, or throws an {@link EvotorApiError}.
 * A caller's abort rejects with the signal's reason, also during a wait between tries.
 * @internal
 */
export async function callEvotor(config: TransportConfig, spec: CallSpec): Promise<CallResult> {
  const query = buildQuery(spec.query)
  const url = `${config.baseUrl}${spec.path}${query}`
  const where = `${spec.method} ${spec.path}${query}`
  const init = requestInit(config, spec)
  const idempotent = IDEMPOTENT.has(spec.method)
  let attempts = 0
  let waitedMs = 0
  for (;;) {
    spec.signal?.throwIfAborted()
    attempts += 1
    const result = await config.limiter.run(spec.token, spec.signal, () => attempt(config, spec, url, init))
    let waitMs: number
    if (result.kind === 'failure') {
      waitMs = backoff(config, attempts)
      if (!idempotent || attempts >= config.maxAttempts || waitedMs + waitMs > config.maxWaitMs) {
        const timedOut = result.code === 'timeout'
        throw new EvotorApiError({
          status: 0,
          code: result.code,
          method: spec.method,
          path: `${spec.path}${query}`,
          message: timedOut
            ? `Evotor did not answer ${where} within ${config.timeoutMs} ms`
            : `${where} failed: no answer from Evotor (${mask(String((result.cause as Error)?.message ?? result.cause), spec.token)})`,
          retry: { attempts, waitedMs },
          cause: result.cause,
        })
      }
    } else {
      const { response, body } = result
      const warning = response.headers.get('warning')
      if (warning !== null) {
        config.logger.warn('Evotor sent a Warning header: this URL may be switched off', {
          method: spec.method,
          path: spec.path,
          warning: mask(warning, spec.token),
        })
      }
      const rateLimit = readRateLimit(response.headers)
      if (response.ok) return { status: response.status, body, rateLimit }
      const now = config.clock.now()
      // 429 waits for Retry-After or the window's reset; a 503 may carry Retry-After too.
      const asked =
        response.status === 429 ? rateLimitWaitMs(response.headers, now) : retryAfterMs(response.headers, now)
      const retryable = response.status === 429 || (idempotent && RETRY_STATUSES.has(response.status))
      waitMs =
        response.status === 429
          ? (asked ?? backoff(config, attempts)) + Math.random() * config.jitterMs
          : Math.max(asked ?? 0, backoff(config, attempts))
      if (!retryable || attempts >= config.maxAttempts || waitedMs + waitMs > config.maxWaitMs) {
        const retry: EvotorRetryInfo = {
          attempts,
          waitedMs,
          ...(response.status === 429 ? { retryAfterMs: asked ?? Math.round(waitMs) } : {}),
        }
        throw errorFromAnswer(response.status, body, spec, where, retry, rateLimit)
      }
      config.logger.debug('retrying an Evotor call', {
        method: spec.method,
        path: spec.path,
        status: response.status,
        attempts,
        waitMs: Math.round(waitMs),
      })
    }
    await config.clock.sleep(waitMs, spec.signal)
    waitedMs += waitMs
  }
}
