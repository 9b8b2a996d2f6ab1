/**
 * The Evotor error code table (protocol §5.3): every documented code with its HTTP status,
 * the default `reason` the documentation shows (when it shows one) and a human description.
 * Pure data; no I/O.
 */

/**
 * One documented Evotor error code.
 *
 * @example
 * ```ts
 * import { EVOTOR_ERROR_CODES, type EvotorErrorCodeInfo } from 'evotor-partner/protocol'
 * const info: EvotorErrorCodeInfo = EVOTOR_ERROR_CODES[2002] // { status: 400, reason: 'missing', … }
 * ```
 */
export interface EvotorErrorCodeInfo {
  /** HTTP status the partner answers with. */
  readonly status: number
  /** The documented `reason` string, when the docs give one. */
  readonly reason: string | undefined
  /** The documented `subject`, when the docs give a fixed one. */
  readonly subject: string | undefined
  /** What the code means, for logs and `Error.message`. */
  readonly description: string
}

/**
 * Evotor error codes (protocol §5.3).
 *
 * @example
 * ```ts
 * import { EVOTOR_ERROR_CODES } from 'evotor-partner/protocol'
 * EVOTOR_ERROR_CODES[1002].status // 401
 * ```
 */
export const EVOTOR_ERROR_CODES = {
  1001: {
    status: 401,
    reason: undefined,
    subject: undefined,
    description: 'invalid app credential',
  },
  1002: { status: 401, reason: undefined, subject: undefined, description: 'invalid user token' },
  1003: { status: 401, reason: undefined, subject: undefined, description: 'user token expired' },
  1004: {
    status: 402,
    reason: 'payment required',
    subject: 'userUuid',
    description: "the user's subscription is not active: payment required",
  },
  1005: {
    status: 405,
    reason: 'not allowed',
    subject: 'deviceUuid',
    description: 'the terminal is not covered by the licence',
  },
  1006: {
    status: 401,
    reason: undefined,
    subject: undefined,
    description: 'wrong login or password for the partner account',
  },
  1007: {
    status: 405,
    reason: 'license overhead',
    subject: 'deviceUuid',
    description: 'not enough licensed terminals for the tariff',
  },
  2001: { status: 400, reason: undefined, subject: undefined, description: 'syntax error in the request' },
  2002: { status: 400, reason: 'missing', subject: undefined, description: 'required field missing' },
  2003: { status: 400, reason: 'incorrect', subject: undefined, description: 'invalid value' },
  2004: {
    status: 409,
    reason: undefined,
    subject: undefined,
    description: 'the partner account is already linked to another Evotor user',
  },
  2005: {
    status: 409,
    reason: undefined,
    subject: undefined,
    description: 'an account with these data already exists',
  },
} as const satisfies Record<number, EvotorErrorCodeInfo>

/**
 * A documented Evotor error code: 1001–1007, 2001–2005.
 *
 * @example
 * ```ts
 * import { EVOTOR_ERROR_CODES, type EvotorErrorCode, isEvotorErrorCode } from 'evotor-partner/protocol'
 * const code: EvotorErrorCode | undefined = isEvotorErrorCode(item.code) ? item.code : undefined
 * if (code !== undefined) console.log(EVOTOR_ERROR_CODES[code].description)
 * ```
 */
export type EvotorErrorCode = keyof typeof EVOTOR_ERROR_CODES

/**
 * Whether `code` is one of the documented Evotor error codes.
 *
 * @example
 * ```ts
 * isEvotorErrorCode(2002) // true
 * isEvotorErrorCode(42) // false
 * ```
 */
export function isEvotorErrorCode(code: unknown): code is EvotorErrorCode {
  return typeof code === 'number' && Object.hasOwn(EVOTOR_ERROR_CODES, code)
}
