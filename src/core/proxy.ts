import { MAX_AUTHORIZATION_LENGTH, parseAuthorization } from './auth/authorization.js'
import type { UserTokenVerifier, VerifiedUserToken } from './auth/user-token-verifier.js'
import { EvotorError, isEvotorError } from './evotor-error.js'
import { createEvotorHeaderReader, type RawEvotorHeaders } from './headers.js'
import type { HeadersLike, WebhookResponse } from './http-types.js'
import { toLogSink } from './logger.js'
import {
  PROXY_V1_CONTENT_TYPE,
  type ProxyInnerResponse,
  type ProxyV1BodyEncoding,
  proxyV1Text,
} from './proxy-envelope.js'
import { VerifiedContext } from './verified-context.js'

/**
 * The verified context of a proxied terminal request (flow A, protocol §2, §3.2). `R` names the
 * headers the proxy requires (`requiredHeaders`; all three by default): those ids are `string`,
 * the others `string | undefined`. Without `R` (a context read back with `getEvotorContext`)
 * nothing is assumed.
 *
 * @example
 * ```ts
 * import { createEvotorProxy, type EvotorProxyContext, getEvotorContext } from 'evotor-partner'
 * const evotor: EvotorProxyContext | undefined = getEvotorContext(req)
 * const proxy = createEvotorProxy({ userTokens: tokens, requiredHeaders: ['userId', 'storeUuid'] })
 * const context = await proxy.authenticate(req.headers) // EvotorProxyContext<'userId' | 'storeUuid'>
 * context.storeUuid // string
 * context.deviceUuid // string | undefined
 * ```
 */
export type EvotorProxyContext<R extends EvotorProxyHeader = never> = EvotorProxyContextFields & {
  readonly [K in Extract<R, 'storeUuid' | 'deviceUuid'>]: string
}

/** The fields of every {@link EvotorProxyContext}. */
interface EvotorProxyContextFields {
  /** The Evotor user the token belongs to; equals `X-Evotor-User-Id`. */
  userId: string
  /** `X-Evotor-Store-Uuid`, case kept; a `string` when the proxy requires it. */
  storeUuid: string | undefined
  /** `X-Evotor-Device-UUID`, case kept; a `string` when the proxy requires it. */
  deviceUuid: string | undefined
  /** What the user-token verifier returned. */
  token: VerifiedUserToken
}

/**
 * The headers a `requiredHeaders` array guarantees: its members when it is a tuple (written in
 * place, or `as const`), none when only its element type is known (`EvotorProxyHeader[]`).
 */
export type GuaranteedHeaders<H> = H extends readonly EvotorProxyHeader[]
  ? number extends H['length']
    ? never
    : H[number]
  : never

/** `requiredHeaders` when the option is left out: all three. */
export type DefaultRequiredHeaders = readonly ['storeUuid', 'deviceUuid', 'userId']

/**
 * Which `X-Evotor-*` headers a proxied request must carry.
 *
 * @example
 * ```ts
 * import { createEvotorProxy, type EvotorProxyHeader } from 'evotor-partner'
 * const requiredHeaders: EvotorProxyHeader[] = ['userId', 'storeUuid'] // no terminal id needed here
 * const proxy = createEvotorProxy({ userTokens: tokens, requiredHeaders })
 * ```
 */
export type EvotorProxyHeader = 'storeUuid' | 'deviceUuid' | 'userId'

/**
 * Options of {@link createEvotorProxy}.
 *
 * @example
 * ```ts
 * import { createEvotorProxy, type EvotorProxyOptions } from 'evotor-partner'
 * const options: EvotorProxyOptions = { userTokens: tokens, proxyVersion: 1, bodyEncoding: 'string' }
 * const proxy = createEvotorProxy(options)
 * ```
 */
export interface EvotorProxyOptions {
  /** Verifies the partner user token of `Authorization: Bearer …`. */
  userTokens: UserTokenVerifier
  /** `2` (default): responses pass through. `1`: every response is wrapped as `{status, body}`. */
  proxyVersion?: 1 | 2
  /** ver. 1 only: how the inner body goes into `body` (default `'string'`, protocol §7.4). */
  bodyEncoding?: ProxyV1BodyEncoding
  /** Headers that must be present (default all three). A missing one answers 400/2002. */
  requiredHeaders?: readonly EvotorProxyHeader[]
  /** Strict id formats (protocol §3.5); default lenient. */
  strict?: boolean
  /**
   * Told about failures that are not `EvotorError`s (a token lookup that cannot reach its
   * database, a route that throws): they answer 500 `{}` and would otherwise go unseen.
   * A pino logger or `console` is taken as it is (see `toLogSink`).
   */
  logger?: {
    /** Receives each such failure (answered 500), with context fields. */
    error(message: string, fields?: Record<string, unknown>): void
  }
}

/**
 * Framework-neutral core of the proxy middleware; adapters only call it.
 *
 * @example
 * ```ts
 * import { createEvotorProxy, type EvotorProxy } from 'evotor-partner'
 * const proxy: EvotorProxy = createEvotorProxy({ userTokens: tokens })
 * const answer = proxy.errorResponse(error) // { status, headers, body }, whatever was thrown
 * ```
 */
export interface EvotorProxy<C extends EvotorProxyContext = EvotorProxyContext> {
  readonly proxyVersion: 1 | 2
  /**
   * Verifies the user token FIRST, then parses `X-Evotor-*` and checks that the token's user
   * equals `X-Evotor-User-Id`. Rejects with an `EvotorError` (401/1002, 401/1003, 400/2002, 400/2003).
   */
  authenticate(headers: HeadersLike): Promise<C>
  /**
   * The synchronous fast path of {@link EvotorProxy.authenticate}, for adapters: the context when
   * the token's verification is cached (`peek` of the verifier), `undefined` when it is not (call
   * `authenticate`). Throws the same `EvotorError`s as `authenticate` rejects with, in the same
   * order (the token is checked before any `X-Evotor-*` header). `origin: 'node'` says that
   * `headers` is Node's `IncomingMessage.headers` (lower-case keys, repeats already joined or
   * dropped by Node's parser), so the four headers are read by name instead of by a scan.
   */
  authenticateCached?(headers: HeadersLike, origin?: 'node'): C | undefined
  /** The ver. 1 answer for an inner response (HTTP 200 + envelope). Only meaningful when `proxyVersion` is 1. */
  envelope(inner: ProxyInnerResponse): WebhookResponse
  /**
   * The answer for an error: an `EvotorError`'s status and body; an http-errors style 4xx that is
   * meant to be shown, with its message as text; anything else 500 `{}`. Enveloped in ver. 1.
   * Never leaks internals.
   */
  errorResponse(error: unknown): WebhookResponse
}

/** A context and the raw `X-Evotor-*` values it was built from (see `contextOf`). */
interface ContextMemo {
  readonly store: RawEvotorHeaders[number]
  readonly device: RawEvotorHeaders[number]
  readonly user: RawEvotorHeaders[number]
  readonly context: EvotorProxyContext<EvotorProxyHeader>
}

const ALL_HEADERS: readonly EvotorProxyHeader[] = ['storeUuid', 'deviceUuid', 'userId']

/** An http-errors style 4xx (`ctx.throw(404)`, `createError(400, 'bad')`) whose message may be shown. */
function exposedHttpError(error: unknown): { status: number; message: string } | undefined {
  if (isEvotorError(error) || typeof error !== 'object' || error === null) return undefined
  const e = error as { status?: unknown; statusCode?: unknown; expose?: unknown; message?: unknown }
  const status = e.status ?? e.statusCode
  if (e.expose !== true || typeof status !== 'number' || status < 400 || status >= 500) return undefined
  return { status, message: String(e.message) }
}

/**
 * The token of the common exact form `Bearer <token>` (one space, a token without spaces or
 * control characters), or `undefined` for anything else, which `parseAuthorization` then decides.
 * Gives the same token as `parseAuthorization` for every value it accepts.
 */
function plainBearer(value: string): string | undefined {
  const length = value.length
  if (length < 8 || length > MAX_AUTHORIZATION_LENGTH || !value.startsWith('Bearer ')) return undefined
  for (let i = 7; i < length; i++) {
    const code = value.charCodeAt(i)
    if (code <= 32 || code === 127) return undefined
  }
  return value.slice(7)
}

/**
 * The proxy core for an adapter's argument: an existing {@link EvotorProxy}, or options for a new one.
 *
 * @example
 * ```ts
 * const proxy = resolveEvotorProxy({ userTokens }) // same as createEvotorProxy({ userTokens })
 * ```
 */
export function resolveEvotorProxy(proxy: EvotorProxy | EvotorProxyOptions): EvotorProxy {
  return typeof (proxy as EvotorProxy)?.authenticate === 'function'
    ? (proxy as EvotorProxy)
    : createEvotorProxy(proxy as EvotorProxyOptions)
}

/**
 * Creates the proxy core used by `evotor-partner/koa`, `/express` and `/fetch`. The contexts it
 * returns type the ids of `requiredHeaders` (all three by default) as `string`.
 *
 * @param options - the user-token verifier, the proxy version, the required headers.
 * @returns the proxy core.
 * @throws TypeError when an option is not valid.
 * @example
 * ```ts
 * const proxy = createEvotorProxy({ userTokens: tokens, proxyVersion: 1 })
 * const ctx = await proxy.authenticate(request.headers) // { userId, storeUuid, deviceUuid }: strings
 * ```
 */
export function createEvotorProxy<const H extends readonly EvotorProxyHeader[] = DefaultRequiredHeaders>(
  options: EvotorProxyOptions & { requiredHeaders?: H },
): EvotorProxy<EvotorProxyContext<GuaranteedHeaders<H>>>
export function createEvotorProxy(
  options: EvotorProxyOptions,
): EvotorProxy<EvotorProxyContext<EvotorProxyHeader>> {
  const { userTokens } = options
  if (typeof userTokens?.verify !== 'function') {
    throw new TypeError('createEvotorProxy: userTokens must be a user-token verifier (createUserTokens())')
  }
  const proxyVersion = options.proxyVersion ?? 2
  if (proxyVersion !== 1 && proxyVersion !== 2) {
    throw new TypeError('createEvotorProxy: proxyVersion must be 1 or 2')
  }
  const bodyEncoding = options.bodyEncoding ?? 'string'
  if (bodyEncoding !== 'string' && bodyEncoding !== 'json') {
    throw new TypeError("createEvotorProxy: bodyEncoding must be 'string' or 'json'")
  }
  if (options.logger !== undefined && typeof options.logger?.error !== 'function') {
    throw new TypeError('createEvotorProxy: logger must have an error(message, fields) method')
  }
  const logger = toLogSink(options.logger)
  const required = [...(options.requiredHeaders ?? ALL_HEADERS)]
  for (const name of required) {
    if (!ALL_HEADERS.includes(name)) {
      throw new TypeError(`createEvotorProxy: requiredHeaders has an unknown header '${String(name)}'`)
    }
  }
  // One pass over the headers; the ids are parsed only after the token is verified (§3.2).
  const reader = createEvotorHeaderReader({ required, strict: options.strict === true })

  /**
   * The bearer token; a missing or malformed Authorization is an invalid token (§5.3), and so is a
   * repeated one where the headers still show it (Fetch `Headers` join the values; a raw list). On
   * Node, the HTTP parser keeps only the first `Authorization` of a request and drops the others.
   */
  function tokenOf(raw: RawEvotorHeaders): string {
    const value = reader.authorization(raw)
    if (value === undefined) throw EvotorError.invalidUserToken()
    const fast = plainBearer(value)
    if (fast !== undefined) return fast
    let parsed: ReturnType<typeof parseAuthorization>
    try {
      parsed = parseAuthorization(value)
    } catch {
      throw EvotorError.invalidUserToken()
    }
    if (parsed.scheme !== 'bearer') throw EvotorError.invalidUserToken()
    return parsed.token
  }

  /**
   * The last context built for each cached verification, with the raw ids it was built from. A
   * terminal sends the same token and the same ids request after request: equal raw ids give the same
   * context (the checks depend on nothing else), so they are not parsed again. Kept per verification
   * object, so it goes when the verifier's cache drops the token, and a revoked token (no cache hit)
   * never reaches it. Only contexts that passed every check are kept; they are frozen, being shared.
   */
  const lastContexts = new WeakMap<VerifiedUserToken, ContextMemo>()

  function contextOf(
    raw: RawEvotorHeaders,
    verified: VerifiedUserToken,
  ): EvotorProxyContext<EvotorProxyHeader> {
    const last = lastContexts.get(verified)
    // The user too: a custom verifier may hand back one object whose `userId` it changes per call.
    if (
      last !== undefined &&
      last.store === raw[0] &&
      last.device === raw[1] &&
      last.user === raw[2] &&
      last.context.userId === verified.userId
    ) {
      return last.context
    }
    const context = checkedContext(raw, verified)
    if (typeof verified === 'object' && verified !== null) {
      lastContexts.set(verified, { store: raw[0], device: raw[1], user: raw[2], context })
    }
    return context
  }

  function checkedContext(
    raw: RawEvotorHeaders,
    verified: VerifiedUserToken,
  ): EvotorProxyContext<EvotorProxyHeader> {
    const ids = reader.ids(raw)
    if (ids.userId !== undefined && ids.userId !== verified.userId) {
      // Forged or mixed-up X-Evotor-User-Id: the token decides who the caller is (protocol §3.2).
      throw EvotorError.invalidUserToken()
    }
    // The reader answered 400/2002 already for a missing required header: what is asked for is there.
    return Object.freeze(
      new VerifiedContext(verified.userId, ids.storeUuid, ids.deviceUuid, verified),
    ) as EvotorProxyContext<EvotorProxyHeader>
  }

  function envelope(inner: ProxyInnerResponse): WebhookResponse {
    return {
      status: 200,
      headers: { 'content-type': PROXY_V1_CONTENT_TYPE },
      body: proxyV1Text(inner, bodyEncoding),
    }
  }

  return {
    proxyVersion,
    async authenticate(headers) {
      const raw = reader.read(headers)
      const token = tokenOf(raw)
      return contextOf(raw, userTokens.peek?.(token) ?? (await userTokens.verify(token)))
    },
    authenticateCached(headers, origin) {
      const raw = origin === 'node' ? reader.readNode(headers) : reader.read(headers)
      // A cached verification is of a token that was checked (tokenOf) before it was verified: the
      // common `Bearer <token>` is looked up as it stands, and only a miss pays for the checks.
      const value = reader.authorization(raw)
      const hit =
        value !== undefined && value.length <= MAX_AUTHORIZATION_LENGTH && value.startsWith('Bearer ')
          ? userTokens.peek?.(value.slice(7))
          : undefined
      const verified = hit ?? userTokens.peek?.(tokenOf(raw))
      return verified === undefined ? undefined : contextOf(raw, verified)
    },
    envelope,
    errorResponse(error) {
      const exposed = exposedHttpError(error)
      if (exposed !== undefined) {
        const inner = {
          status: exposed.status,
          body: exposed.message,
          contentType: 'text/plain;charset=utf-8',
        }
        if (proxyVersion === 1) return envelope(inner)
        return { status: inner.status, headers: { 'content-type': inner.contentType }, body: inner.body }
      }
      if (!isEvotorError(error)) {
        logger.error('evotor-partner: proxied request failed', {
          error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        })
      }
      const e = isEvotorError(error) ? error : EvotorError.internal(error)
      const headers: Record<string, string> = { ...e.headers }
      const body = e.toBody()
      if (proxyVersion === 1) {
        const wrapped = envelope({ status: e.status, body, contentType: 'application/json' })
        return { ...wrapped, headers: { ...headers, ...wrapped.headers } }
      }
      return {
        status: e.status,
        headers: { ...headers, 'content-type': PROXY_V1_CONTENT_TYPE },
        body: JSON.stringify(body),
      }
    },
  }
}
