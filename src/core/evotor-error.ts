import { EVOTOR_ERROR_CODES, type EvotorErrorCode, isEvotorErrorCode } from '../protocol/errors.js'

/**
 * One item of the Evotor error envelope (protocol §5.3). Only `code` is mandatory for Evotor.
 *
 * @example
 * ```ts
 * import type { EvotorErrorItem } from 'evotor-partner'
 * const item: EvotorErrorItem = { code: 2003, reason: 'incorrect', subject: 'price', value: -1 }
 * ```
 */
export interface EvotorErrorItem {
  code?: number
  reason?: string
  subject?: string
  value?: unknown
}

/**
 * The Evotor error envelope `{ "errors": [...] }`, or `{}` for 404/405 without a code.
 *
 * @example
 * ```ts
 * import { EvotorError, type EvotorErrorBody } from 'evotor-partner'
 * const body: EvotorErrorBody = EvotorError.missing('userId').toBody() // { errors: [{ code: 2002, … }] }
 * ```
 */
export type EvotorErrorBody =
  | {
      errors: EvotorErrorItem[]
      /** How many further items were left out: an answer lists at most 20. */
      moreErrors?: number
    }
  | Record<string, never>

/**
 * The most items one error answer lists (design "Hostile bodies"); the rest are counted in
 * `moreErrors`, so a body with a million bad elements gets a small answer.
 *
 * @internal
 */
export const MAX_ERROR_ITEMS = 20

/**
 * Options of the {@link EvotorError} constructor.
 *
 * @example
 * ```ts
 * import { EvotorError, type EvotorErrorOptions } from 'evotor-partner'
 * const options: EvotorErrorOptions = { reason: 'incorrect', subject: 'price', value: -1 }
 * throw new EvotorError(2003, options) // 400 {"errors":[{"code":2003,"reason":"incorrect",…}]}
 * ```
 */
export interface EvotorErrorOptions {
  /** HTTP status; defaults to the code's documented status, or 500 without a code. */
  status?: number
  reason?: string
  subject?: string
  value?: unknown
  /** More items for the envelope, after the first one (at most 20 are kept). */
  more?: EvotorErrorItem[]
  /** How many items were left out before this error was built (added to `moreErrors`). */
  omitted?: number
  /** Human-readable message for logs. Never put a secret here. */
  message?: string
  /** Response headers to send with this error (for example `Allow`). */
  headers?: Record<string, string>
  /** Whether the message may be shown to the caller (Koa's convention); defaults to `status < 500`. */
  expose?: boolean
  cause?: unknown
}

const BRAND = Symbol.for('evotor-partner.EvotorError')

/**
 * The one error class of the library: an Evotor protocol error with its HTTP status and the
 * Evotor error envelope. Handlers `throw` it to answer with a documented Evotor error.
 *
 * @example
 * ```ts
 * import { EvotorError } from 'evotor-partner'
 * throw EvotorError.paymentRequired('01-000000000015463') // 402 {"errors":[{"code":1004,...}]}
 * ```
 */
export class EvotorError extends Error {
  /** Evotor integer code (1001–1007, 2001–2005), when there is one. */
  readonly code: number | undefined
  /** HTTP status of the answer. */
  readonly status: number
  readonly reason: string | undefined
  readonly subject: string | undefined
  readonly value: unknown
  /** Koa reads this: whether `message` may be shown to the client. */
  readonly expose: boolean
  /** Headers to send with the error answer. */
  readonly headers: Readonly<Record<string, string>>
  /** Every item of the envelope (the first one mirrors `code`/`reason`/`subject`/`value`). */
  readonly items: readonly EvotorErrorItem[]
  /** Items left out of {@link EvotorError.items} beyond the first 20. */
  readonly omitted: number
  declare readonly [BRAND]: true

  constructor(code: number | undefined, options: EvotorErrorOptions = {}) {
    const info = isEvotorErrorCode(code) ? EVOTOR_ERROR_CODES[code] : undefined
    const status = options.status ?? info?.status ?? 500
    const reason = options.reason ?? info?.reason
    const subject = options.subject ?? info?.subject
    const message =
      options.message ??
      [
        code === undefined ? `HTTP ${status}` : `Evotor error ${code}`,
        info?.description,
        subject === undefined ? undefined : `(${subject})`,
      ]
        .filter(Boolean)
        .join(' ')
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'EvotorError'
    this.code = code
    this.status = status
    this.reason = reason
    this.subject = subject
    this.value = options.value
    this.expose = options.expose ?? status < 500
    this.headers = Object.freeze({ ...options.headers })
    const first: EvotorErrorItem = {}
    if (code !== undefined) first.code = code
    if (reason !== undefined) first.reason = reason
    if (subject !== undefined) first.subject = subject
    if ('value' in options) first.value = options.value === undefined ? null : options.value
    const items = Object.keys(first).length > 0 ? [first] : []
    const all = [...items, ...(options.more ?? [])]
    this.items = Object.freeze(all.slice(0, MAX_ERROR_ITEMS))
    this.omitted = Math.max(0, all.length - MAX_ERROR_ITEMS) + (options.omitted ?? 0)
    Object.defineProperty(this, BRAND, { value: true })
  }

  /**
   * The Evotor error envelope for this error: `{"errors":[{code,reason,subject,value}]}`, with
   * absent fields left out, or `{}` when there is nothing to say (404, 405 without a code).
   *
   * @example
   * ```ts
   * EvotorError.missing('deviceUuid').toBody()
   * // { errors: [{ code: 2002, reason: 'missing', subject: 'deviceUuid' }] }
   * ```
   */
  toBody(): EvotorErrorBody {
    if (this.items.length === 0) return {}
    const errors = this.items.map((item) => ({ ...item }))
    return this.omitted > 0 ? { errors, moreErrors: this.omitted } : { errors }
  }

  /** JSON form: the envelope, so `JSON.stringify(error)` is safe to send. */
  toJSON(): EvotorErrorBody {
    return this.toBody()
  }

  /**
   * One error carrying the items of several (for example every field that failed validation).
   * Status and code come from the first.
   */
  static combine(errors: readonly EvotorError[], omitted = 0): EvotorError {
    const [first, ...rest] = errors
    if (first === undefined) throw new TypeError('EvotorError.combine: at least one error is required')
    if (rest.length === 0 && omitted === 0) return first
    const skipped = errors.reduce((sum, e) => sum + e.omitted, omitted)
    return new EvotorError(first.code, {
      status: first.status,
      ...(first.reason === undefined ? {} : { reason: first.reason }),
      ...(first.subject === undefined ? {} : { subject: first.subject }),
      ...(first.items[0] !== undefined && 'value' in first.items[0] ? { value: first.value } : {}),
      more: [...first.items.slice(1), ...rest.flatMap((e) => e.items)],
      ...(skipped === 0 ? {} : { omitted: skipped }),
      message: errors
        .slice(0, MAX_ERROR_ITEMS)
        .map((e) => e.message)
        .join('; '),
    })
  }

  /** 400/2001: the request is not valid JSON or not parseable at all. */
  static syntax(message?: string): EvotorError {
    return new EvotorError(2001, message === undefined ? {} : { message: `Evotor error 2001: ${message}` })
  }

  /** 400/2002 `reason: "missing"`: a required field or header is absent. */
  static missing(subject: string): EvotorError {
    return new EvotorError(2002, { reason: 'missing', subject })
  }

  /** 400/2002 `reason: "unexpected"`: a field that must not be there. */
  static unexpected(subject: string): EvotorError {
    return new EvotorError(2002, { reason: 'unexpected', subject })
  }

  /** 400/2003 `reason: "incorrect"`: a value is invalid; `value` is echoed (`null` when absent). */
  static incorrect(subject: string, value: unknown = null): EvotorError {
    return new EvotorError(2003, { reason: 'incorrect', subject, value })
  }

  /** 401/1001: the partner app credential is missing or wrong. */
  static invalidAppCredential(): EvotorError {
    return new EvotorError(1001, { headers: { 'www-authenticate': 'Bearer, Basic' } })
  }

  /** 401/1002: the partner user token is missing or invalid. */
  static invalidUserToken(): EvotorError {
    return new EvotorError(1002, { headers: { 'www-authenticate': 'Bearer' } })
  }

  /** 401/1003: the partner user token has expired. */
  static userTokenExpired(): EvotorError {
    return new EvotorError(1003, { headers: { 'www-authenticate': 'Bearer' } })
  }

  /** 402/1004: the user's subscription is not active (`subject: "userUuid"`, `value`: the user id). */
  static paymentRequired(userId: string): EvotorError {
    return new EvotorError(1004, { value: userId })
  }

  /** 405/1005: the terminal is not covered by the licence. */
  static deviceNotLicensed(deviceUuid: string): EvotorError {
    return new EvotorError(1005, { value: deviceUuid })
  }

  /** 401/1006: wrong login or password on `user/verify`. */
  static wrongCredentials(): EvotorError {
    return new EvotorError(1006)
  }

  /** 405/1007: not enough licensed terminals for the tariff. */
  static licenseOverhead(deviceUuid: string): EvotorError {
    return new EvotorError(1007, { value: deviceUuid })
  }

  /** 409/2004: the partner account is already linked to another Evotor user. */
  static alreadyLinked(): EvotorError {
    return new EvotorError(2004)
  }

  /** 409/2005: an account with these data already exists. */
  static accountExists(): EvotorError {
    return new EvotorError(2005)
  }

  /** 404 with body `{}` (protocol §11 A27). */
  static notFound(): EvotorError {
    return new EvotorError(undefined, { status: 404, message: 'Not found' })
  }

  /** 405 with an `Allow` header and body `{}`: the HTTP method is wrong for this route. */
  static methodNotAllowed(allow: readonly string[]): EvotorError {
    return new EvotorError(undefined, {
      status: 405,
      message: 'Method not allowed',
      headers: { allow: allow.join(', ') },
    })
  }

  /** 413 with body `{}` (Evotor error items need a code, and there is none for this): the body is over the limit. */
  static payloadTooLarge(limit: number): EvotorError {
    return new EvotorError(undefined, {
      status: 413,
      message: `Request body is larger than ${limit} bytes`,
      // The rest of the body may still be on its way: do not keep reading it.
      headers: { connection: 'close' },
    })
  }

  /** 415: the body is not JSON. */
  static unsupportedMediaType(): EvotorError {
    return new EvotorError(undefined, {
      status: 415,
      message: 'Content-Type must be application/json',
    })
  }

  /** 500 with no internals: for errors that are not `EvotorError`s. */
  static internal(cause?: unknown): EvotorError {
    return new EvotorError(undefined, {
      status: 500,
      message: 'Internal error',
      expose: false,
      ...(cause === undefined ? {} : { cause }),
    })
  }
}

/**
 * Whether `value` is an {@link EvotorError}, also when it comes from another copy of the
 * library (the ESM and the CJS build each have their own class): checks a global brand, not
 * only `instanceof`.
 *
 * @example
 * ```ts
 * try { await handler() } catch (e) { if (isEvotorError(e)) reply(e.status, e.toBody()) }
 * ```
 */
export function isEvotorError(value: unknown): value is EvotorError {
  return (
    value instanceof EvotorError ||
    (typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true)
  )
}

/** Re-exported for callers that switch on codes. */
export type { EvotorErrorCode }
