import { toLogSink } from '../core/logger.js'
import { createTokenLimiter } from './limiter.js'
import {
  createCloudApi,
  createPublisherApi,
  type EvotorCloudApi,
  type EvotorPublisherApi,
  type TokenSource,
} from './resources.js'
import {
  type EvotorClientClock,
  type EvotorClientLogger,
  systemClock,
  type TransportConfig,
} from './transport.js'

/**
 * Retry and rate-limit budget of every call.
 *
 * @example
 * ```ts
 * const retry: EvotorRetryOptions = { maxAttempts: 5, maxWaitMs: 120_000 }
 * ```
 */
export interface EvotorRetryOptions {
  /** Tries per call, the first one included; 4 by default. 1 turns retries off. */
  maxAttempts?: number
  /** Most time one call may spend waiting between tries (429 waits included); 60 s by default. */
  maxWaitMs?: number
  /** First backoff after a network error or 502/503/504 (doubled each try); 200 ms by default. */
  backoffMs?: number
  /** Random time added to each wait, so that many clients do not retry in step; 250 ms by default. */
  jitterMs?: number
}

/**
 * Options of {@link createEvotorClient}. Give `token` (one user's cloud token), or `getToken`
 * (your store of the tokens `user/token` delivered) and call `client.forUser(userId)`, or both.
 *
 * @example
 * ```ts
 * const options: EvotorClientOptions = { getToken: (userId) => db.cloudTokenOf(userId), timeoutMs: 15_000 }
 * ```
 */
export interface EvotorClientOptions {
  /** A cloud token for the client's own resources (`client.stores` …). */
  token?: string
  /** Looks up a user's cloud token, for `client.forUser(userId)`. Called once per request. */
  getToken?: (userId: string) => string | Promise<string>
  /** The publisher access key and the app id, for `client.publisher`. */
  publisher?: { token: string; appId: string }
  /** `https://api.evotor.ru` by default; the fake cloud's `url` in tests. */
  baseUrl?: string
  /** `authorization` (`Bearer <token>`, the default) or `x-authorization` (the 2018 SDK style). */
  authHeader?: 'authorization' | 'x-authorization'
  /** A `fetch` to use instead of the global one. */
  fetch?: typeof fetch
  /** An undici `Dispatcher` (for example `new Agent({ connect: { ca } })`) passed to `fetch`. */
  dispatcher?: object
  /** Time allowed for one try, answer body included; 30 s by default. */
  timeoutMs?: number
  retry?: EvotorRetryOptions
  /** Calls in flight per token; more wait in line. 4 by default. */
  concurrency?: number
  /** Receives `Warning` headers (and retries at debug level). Never receives a token. */
  logger?: EvotorClientLogger
  /** A clock for tests: record waits instead of sleeping. */
  clock?: EvotorClientClock
  userAgent?: string
}

/**
 * The Evotor cloud client: the REST API with `options.token`, any user's with `forUser`, and the
 * publisher API.
 *
 * @example
 * ```ts
 * const stores = await client.forUser(userId).stores.list().toArray()
 * ```
 */
export interface EvotorClient extends EvotorCloudApi {
  /** The REST API with this user's cloud token, from `options.getToken`. */
  forUser(userId: string): EvotorCloudApi
  /** The publisher API (events feed, push notifications), with `options.publisher`. */
  readonly publisher: EvotorPublisherApi
}

const fail = (option: string, rule: string): never => {
  throw new TypeError(`createEvotorClient: options.${option} ${rule}`)
}

const positiveInt = (value: unknown, option: string, fallback: number, min = 1): number => {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    fail(option, `must be an integer >= ${min}`)
  }
  return value as number
}

const nonNegative = (value: unknown, option: string, fallback: number): number => {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) fail(option, 'must be a number >= 0')
  return value as number
}

const nonEmpty = (value: unknown, option: string): string | undefined => {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value.trim() === '' || /[\r\n]/.test(value)) {
    fail(option, 'must be a non-empty single-line string')
  }
  return value as string
}

function resolveConfig(options: EvotorClientOptions): TransportConfig {
  const baseUrl = options.baseUrl ?? 'https://api.evotor.ru'
  let parsed: URL | undefined
  try {
    parsed = new URL(baseUrl)
  } catch {
    parsed = undefined
  }
  if (parsed === undefined || !/^https?:$/.test(parsed.protocol)) fail('baseUrl', 'must be an http(s) URL')
  if (
    options.authHeader !== undefined &&
    !['authorization', 'x-authorization'].includes(options.authHeader)
  ) {
    fail('authHeader', "must be 'authorization' or 'x-authorization'")
  }
  if (options.fetch !== undefined && typeof options.fetch !== 'function') fail('fetch', 'must be a function')
  if (
    options.dispatcher !== undefined &&
    (typeof options.dispatcher !== 'object' || options.dispatcher === null)
  ) {
    fail('dispatcher', 'must be an undici Dispatcher')
  }
  if (options.logger !== undefined && typeof options.logger?.warn !== 'function') {
    fail('logger', 'must have a warn(details, message) method')
  }
  if (
    options.clock !== undefined &&
    (typeof options.clock?.now !== 'function' || typeof options.clock?.sleep !== 'function')
  ) {
    fail('clock', 'must have now() and sleep(ms, signal) methods')
  }
  if (options.retry !== undefined && (typeof options.retry !== 'object' || options.retry === null)) {
    fail('retry', 'must be an object')
  }
  const retry = options.retry ?? {}
  const fetchFn = options.fetch ?? globalThis.fetch
  return {
    baseUrl: baseUrl.replace(/\/+$/, ''),
    // Bound to globalThis: some fetch implementations refuse a foreign `this`.
    fetch: options.fetch === undefined ? (input, init) => globalThis.fetch(input, init) : fetchFn,
    dispatcher: options.dispatcher,
    authHeader: options.authHeader ?? 'authorization',
    timeoutMs: positiveInt(options.timeoutMs, 'timeoutMs', 30_000),
    maxAttempts: positiveInt(retry.maxAttempts, 'retry.maxAttempts', 4),
    maxWaitMs: nonNegative(retry.maxWaitMs, 'retry.maxWaitMs', 60_000),
    backoffMs: nonNegative(retry.backoffMs, 'retry.backoffMs', 200),
    jitterMs: nonNegative(retry.jitterMs, 'retry.jitterMs', 250),
    logger: toLogSink(options.logger, 'fields-first'),
    clock: options.clock ?? systemClock,
    limiter: createTokenLimiter(positiveInt(options.concurrency, 'concurrency', 4)),
    userAgent: nonEmpty(options.userAgent, 'userAgent') ?? 'evotor-partner',
  }
}

const noToken = (what: string): TokenSource => {
  return () => {
    throw new TypeError(`createEvotorClient: ${what}`)
  }
}

function userToken(getToken: NonNullable<EvotorClientOptions['getToken']>, userId: string): TokenSource {
  // An empty answer is turned into an `unauthorized` EvotorApiError by the call that needed it.
  return async () => {
    const token = await getToken(userId)
    return typeof token === 'string' ? token : ''
  }
}

/**
 * Creates a client of the Evotor cloud's REST API v2 and publisher API: typed resources, cursor
 * paging as async iterators, rate limits and retries, per-token concurrency, timeouts, and
 * `AbortSignal` on every call. Uses the global `fetch` unless given another, or an undici
 * dispatcher for a custom CA.
 *
 * @param options - tokens, transport and retry budget; see {@link EvotorClientOptions}.
 * @returns the client; it holds no connections of its own and needs no closing.
 * @throws TypeError naming the option, when an option is malformed or no token source is given.
 * @example
 * ```ts
 * import { createEvotorClient } from 'evotor-partner/client'
 *
 * const client = createEvotorClient({ getToken: (userId) => tokens.cloudTokenOf(userId) })
 * const api = client.forUser(userId)
 * for await (const doc of api.documents.list(storeId, { since: Date.now() - 86_400_000 })) {
 *   console.log(doc.type, doc.id)
 * }
 * ```
 */
export function createEvotorClient(options: EvotorClientOptions): EvotorClient {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('createEvotorClient: options must be an object')
  }
  const token = nonEmpty(options.token, 'token')
  if (options.getToken !== undefined && typeof options.getToken !== 'function')
    fail('getToken', 'must be a function')
  const publisher = options.publisher
  if (publisher !== undefined) {
    if (typeof publisher !== 'object' || publisher === null) fail('publisher', 'must be { token, appId }')
    if (nonEmpty(publisher.token, 'publisher.token') === undefined) fail('publisher.token', 'is required')
    if (nonEmpty(publisher.appId, 'publisher.appId') === undefined) fail('publisher.appId', 'is required')
  }
  if (token === undefined && options.getToken === undefined && publisher === undefined) {
    throw new TypeError(
      'createEvotorClient: one of options.token, options.getToken or options.publisher is required',
    )
  }
  const config = resolveConfig(options)
  const getToken = options.getToken
  const own = createCloudApi(
    config,
    token === undefined
      ? noToken('no options.token: use client.forUser(userId) with options.getToken')
      : () => token,
  )
  const publisherApi = createPublisherApi(
    config,
    publisher === undefined
      ? noToken('options.publisher is required for client.publisher')
      : () => publisher.token,
    publisher?.appId ?? 'none',
  )
  return {
    ...own,
    publisher: publisherApi,
    forUser(userId) {
      if (typeof userId !== 'string' || userId === '')
        throw new TypeError('forUser: userId must be a non-empty string')
      if (getToken === undefined) throw new TypeError('forUser: options.getToken is required')
      return createCloudApi(config, userToken(getToken, userId))
    },
  }
}
