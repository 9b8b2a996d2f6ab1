import { type ParsedAuthorization, parseAuthorization } from './auth/authorization.js'
import { EvotorError } from './evotor-error.js'
import type { HeadersLike } from './http-types.js'

/**
 * The Evotor request headers, parsed (protocol §3.2). Absent headers are `undefined`.
 *
 * @example
 * ```ts
 * import { type EvotorHeaders, parseEvotorHeaders } from 'evotor-partner'
 * const { storeUuid, deviceUuid, userId }: EvotorHeaders = parseEvotorHeaders(req.headers)
 * ```
 */
export interface EvotorHeaders {
  /** `X-Evotor-Store-Uuid`, case kept exactly. */
  storeUuid: string | undefined
  /** `X-Evotor-Device-UUID`, case kept exactly (Evotor calls it case-sensitive). */
  deviceUuid: string | undefined
  /** `X-Evotor-User-Id`. */
  userId: string | undefined
  /** `Authorization`, parsed; not verified. */
  authorization: ParsedAuthorization | undefined
}

/**
 * A field of {@link EvotorHeaders}.
 *
 * @example
 * ```ts
 * import { EVOTOR_HEADER_NAMES, type EvotorHeaderField } from 'evotor-partner'
 * const field: EvotorHeaderField = 'deviceUuid'
 * EVOTOR_HEADER_NAMES[field] // 'X-Evotor-Device-UUID'
 * ```
 */
export type EvotorHeaderField = keyof EvotorHeaders

/**
 * Options of {@link parseEvotorHeaders}.
 *
 * @example
 * ```ts
 * import { type ParseEvotorHeadersOptions, parseEvotorHeaders } from 'evotor-partner'
 * const options: ParseEvotorHeadersOptions = { strict: true, required: ['storeUuid', 'userId'] }
 * const headers = parseEvotorHeaders(req.headers, options)
 * ```
 */
export interface ParseEvotorHeadersOptions {
  /**
   * Check the documented formats: store/device ids as uuids (also Evotor's date-prefixed
   * form), the user id as `^[0-9]{2}-[0-9]{15}$`. Default `false`: ids are opaque (protocol §3.5).
   */
  strict?: boolean
  /** Headers that must be present (400/2002 when absent). Default `[]`. */
  required?: readonly EvotorHeaderField[]
  /** Longest id accepted, in characters. Default `256`. */
  maxLength?: number
  /**
   * Parse `Authorization` too (default `true`). `false` leaves `authorization` undefined: for
   * callers that have already read and verified the token (the proxy middleware).
   */
  authorization?: boolean
}

/**
 * The canonical spelling of each Evotor header, as the protocol writes it (§3.2).
 *
 * @example
 * ```ts
 * import { EVOTOR_HEADER_NAMES } from 'evotor-partner'
 * EVOTOR_HEADER_NAMES.storeUuid // 'X-Evotor-Store-Uuid'
 * ```
 */
export const EVOTOR_HEADER_NAMES = {
  storeUuid: 'X-Evotor-Store-Uuid',
  deviceUuid: 'X-Evotor-Device-UUID',
  userId: 'X-Evotor-User-Id',
  authorization: 'Authorization',
} as const satisfies Record<EvotorHeaderField, string>

const FIELDS = ['storeUuid', 'deviceUuid', 'userId', 'authorization'] as const
const LOWER_NAMES: readonly string[] = FIELDS.map((f) => EVOTOR_HEADER_NAMES[f].toLowerCase())
const CANONICAL = new Map<string, string>(
  FIELDS.map((f) => [EVOTOR_HEADER_NAMES[f].toLowerCase(), EVOTOR_HEADER_NAMES[f]]),
)
const DEFAULT_MAX_LENGTH = 256
// Standard uuid (versions 1-5), or Evotor's date-prefixed ids (`20170228-F4F1-401B-…`, §3.5)
// whose version/variant nibbles are not guaranteed.
const STRICT_UUID =
  /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}|[0-9]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4})-[0-9a-f]{12}$/i
const STRICT_USER_ID = /^[0-9]{2}-[0-9]{15}$/
const STRICT: Record<string, RegExp> = {
  storeUuid: STRICT_UUID,
  deviceUuid: STRICT_UUID,
  userId: STRICT_USER_ID,
}

type RawValue = string | readonly string[] | number | undefined | null

const CANONICAL_NAMES: readonly string[] = FIELDS.map((f) => EVOTOR_HEADER_NAMES[f])

/** Marks a header that was present more than once. */
const REPEATED: unique symbol = Symbol('repeated')

/** A header's raw value: absent, its one value, or {@link REPEATED}. */
type RawSlot = string | typeof REPEATED | undefined

function repeated(subject: string): EvotorError {
  return EvotorError.incorrect(subject, null)
}

/** One value, `undefined`, or REPEATED for an array of several values. */
function single(raw: RawValue): RawSlot {
  if (typeof raw === 'string') return raw
  if (typeof raw === 'number') return String(raw)
  if (Array.isArray(raw)) {
    if (raw.length > 1) return REPEATED
    return raw.length === 1 ? single(raw[0] as RawValue) : undefined
  }
  return undefined
}

function store(out: RawSlot[], index: number, raw: RawValue): void {
  const value = single(raw)
  if (value === undefined) return
  out[index] = out[index] === undefined ? value : REPEATED
}

function indexOfName(key: string, lowerNames: readonly string[]): number {
  for (let i = 0; i < lowerNames.length; i++) {
    const name = lowerNames[i] as string
    if (key.length === name.length && (key === name || key.toLowerCase() === name)) return i
  }
  return -1
}

const INDEX_BY_LENGTH: readonly number[] = (() => {
  const table: number[] = new Array(Math.max(...LOWER_NAMES.map((n) => n.length)) + 1).fill(-1)
  LOWER_NAMES.forEach((name, i) => {
    table[name.length] = i
  })
  return table
})()

function indexByLength(key: string, byLength: readonly number[]): number {
  const i = byLength[key.length]
  if (i === undefined || i < 0) return -1
  const name = LOWER_NAMES[i] as string
  return key === name || key.toLowerCase() === name ? i : -1
}

function readPairs(
  pairs: Iterable<readonly [string, RawValue]>,
  lowerNames: readonly string[],
  out: RawSlot[],
): void {
  for (const pair of pairs) {
    const key = pair[0]
    if (typeof key !== 'string') continue
    const i = indexOfName(key, lowerNames)
    if (i >= 0) store(out, i, pair[1])
  }
}

/**
 * Reads several headers in one pass (`lowerNames` are lower-case); never throws: a header
 * present more than once comes back as REPEATED, so that the caller decides when to report it.
 */
function readHeaders(headers: HeadersLike, lowerNames: readonly string[]): RawSlot[] {
  const out: RawSlot[] =
    lowerNames.length === 4
      ? [undefined, undefined, undefined, undefined]
      : lowerNames.length === 1
        ? [undefined] // getHeader: `fill` on a fresh array is a call into the runtime
        : new Array<RawSlot>(lowerNames.length).fill(undefined)
  if (typeof headers !== 'object' || headers === null) return out
  const proto = Object.getPrototypeOf(headers)
  if (proto === Object.prototype || proto === null) {
    const record = headers as Readonly<Record<string, RawValue>>
    const keys = Object.keys(record)
    if (lowerNames === LOWER_NAMES) {
      for (let k = 0; k < keys.length; k++) {
        const key = keys[k] as string
        // The four Evotor names differ in length: most other headers are skipped by it alone.
        const i = indexByLength(key, INDEX_BY_LENGTH)
        if (i >= 0) store(out, i, record[key])
      }
    } else {
      for (let k = 0; k < keys.length; k++) {
        const key = keys[k] as string
        const i = indexOfName(key, lowerNames)
        if (i >= 0) store(out, i, record[key])
      }
    }
  } else if (Array.isArray(headers) || headers instanceof Map) {
    readPairs(headers as Iterable<readonly [string, RawValue]>, lowerNames, out)
  } else if (typeof (headers as Headers).get === 'function' && !('size' in headers)) {
    // Fetch Headers: already case-insensitive; repeats arrive joined with ", " (rejected later).
    for (let i = 0; i < lowerNames.length; i++) {
      out[i] = (headers as Headers).get(lowerNames[i] as string) ?? undefined
    }
  } else if (Symbol.iterator in headers) {
    readPairs(headers as Iterable<readonly [string, RawValue]>, lowerNames, out)
  }
  return out
}

/**
 * Reads one header from any {@link HeadersLike} (Fetch `Headers`, Node's lower-case
 * `IncomingHttpHeaders`, a plain object with keys in any case, a `Map`, pairs), by a
 * case-insensitive name (protocol §11 A48).
 *
 * @throws {EvotorError} 400/2003 (`value: null`) when the header is present more than once.
 *
 * @example
 * ```ts
 * getHeader({ 'x-evotor-user-id': '01-000000000000001' }, 'X-Evotor-User-Id') // '01-000000000000001'
 * ```
 */
export function getHeader(headers: HeadersLike, name: string): string | undefined {
  const lower = name.toLowerCase()
  const value = readHeaders(headers, [lower])[0]
  if (value === REPEATED) throw repeated(CANONICAL.get(lower) ?? name)
  return value
}

function isStringOrAbsent(value: unknown): value is string | undefined {
  return typeof value === 'string' || value === undefined
}

function isOws(code: number): boolean {
  return code === 32 || code === 9
}

// No control character and no comma (a repeated header joined by Node or Fetch: "a, b").
const ID_CHARS = /^[^\x00-\x1f\x7f,]+$/

function parseId(raw: string, field: EvotorHeaderField, maxLength: number, strict: boolean): string {
  let start = 0
  let end = raw.length
  while (start < end && isOws(raw.charCodeAt(start))) start++
  while (end > start && isOws(raw.charCodeAt(end - 1))) end--
  const value = start === 0 && end === raw.length ? raw : raw.slice(start, end)
  const length = value.length
  // The regexp engine checks the characters several times faster than a charCodeAt loop.
  let ok = length > 0 && length <= maxLength && ID_CHARS.test(value)
  if (ok && strict) ok = (STRICT[field] as RegExp).test(value)
  if (!ok) throw EvotorError.incorrect(EVOTOR_HEADER_NAMES[field], value.slice(0, maxLength))
  return value
}

interface ResolvedOptions {
  strict: boolean
  required: readonly EvotorHeaderField[]
  maxLength: number
  authorization: boolean
}

/** `parseEvotorHeaders(headers)` without options: nothing to check or allocate per call. */
const DEFAULT_OPTIONS: ResolvedOptions = Object.freeze({
  strict: false,
  required: Object.freeze([]),
  maxLength: DEFAULT_MAX_LENGTH,
  authorization: true,
})

function resolveOptions(options: ParseEvotorHeadersOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('parseEvotorHeaders: options must be an object')
  const { strict = false, required = [], maxLength = DEFAULT_MAX_LENGTH, authorization = true } = options
  if (typeof authorization !== 'boolean') {
    throw new TypeError('parseEvotorHeaders: options.authorization must be a boolean')
  }
  if (typeof strict !== 'boolean') throw new TypeError('parseEvotorHeaders: options.strict must be a boolean')
  if (!Number.isInteger(maxLength) || maxLength <= 0) {
    throw new TypeError('parseEvotorHeaders: options.maxLength must be a positive integer')
  }
  if (!Array.isArray(required) || required.some((r) => !(FIELDS as readonly unknown[]).includes(r))) {
    throw new TypeError(`parseEvotorHeaders: options.required must list only ${FIELDS.join(', ')}`)
  }
  return { strict, required, maxLength, authorization }
}

/**
 * Parses the headers the Evotor cloud adds to proxied terminal requests (protocol §3.2):
 * `X-Evotor-Store-Uuid`, `X-Evotor-Device-UUID`, `X-Evotor-User-Id` and `Authorization`
 * (names in any case). Lenient by default: ids are opaque non-empty strings, case kept,
 * surrounding spaces trimmed (§3.5, §11 A2, A49). It does not verify anything: trust the ids
 * only after the token is verified and its user equals `userId` (§3.2).
 *
 * @throws {EvotorError} 400/2002 for a `required` header that is absent; 400/2003 for a
 * repeated header or a malformed value (empty, control characters, a comma, longer than
 * `maxLength`, or failing the strict pattern). Ids are echoed in `value` (truncated);
 * `Authorization` never is.
 * @throws {TypeError} for bad options.
 *
 * @example
 * ```ts
 * import { parseEvotorHeaders } from 'evotor-partner'
 * const { storeUuid, userId, authorization } = parseEvotorHeaders(req.headers, {
 *   required: ['userId', 'authorization'],
 * })
 * ```
 */
export function parseEvotorHeaders(headers: HeadersLike, options?: ParseEvotorHeadersOptions): EvotorHeaders {
  const { strict, required, maxLength, authorization } =
    options === undefined ? DEFAULT_OPTIONS : resolveOptions(options)
  const raw = readHeaders(headers, LOWER_NAMES)
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === REPEATED) throw repeated(CANONICAL_NAMES[i] as string)
  }
  const store = raw[0] as string | undefined
  const device = raw[1] as string | undefined
  const user = raw[2] as string | undefined
  const auth = raw[3] as string | undefined
  const result: EvotorHeaders = {
    storeUuid: store === undefined ? undefined : parseId(store, 'storeUuid', maxLength, strict),
    deviceUuid: device === undefined ? undefined : parseId(device, 'deviceUuid', maxLength, strict),
    userId: user === undefined ? undefined : parseId(user, 'userId', maxLength, strict),
    authorization: auth === undefined || !authorization ? undefined : parseAuthorization(auth),
  }
  for (let i = 0; i < required.length; i++) {
    const field = required[i] as EvotorHeaderField
    if (result[field] === undefined) throw EvotorError.missing(EVOTOR_HEADER_NAMES[field])
  }
  return result
}

/**
 * The raw values of `X-Evotor-Store-Uuid`, `X-Evotor-Device-UUID`, `X-Evotor-User-Id` and
 * `Authorization` from one pass over the headers, unchecked. See {@link createEvotorHeaderReader}.
 *
 * @internal
 *
 * @example
 * ```ts
 * const raw: RawEvotorHeaders = reader.read(req.headers)
 * ```
 */
export type RawEvotorHeaders = readonly RawSlot[]

/**
 * The ids of {@link EvotorHeaders}, parsed.
 *
 * @internal
 *
 * @example
 * ```ts
 * const { storeUuid, userId }: EvotorHeaderIds = reader.ids(raw)
 * ```
 */
export type EvotorHeaderIds = Pick<EvotorHeaders, 'storeUuid' | 'deviceUuid' | 'userId'>

/**
 * {@link parseEvotorHeaders} split in two for the proxy middleware, with the options checked once:
 * `read` takes the four raw values in one pass and never throws, so that the token is verified
 * before any `X-Evotor-*` header is looked at (protocol §3.2: a forged or repeated id header
 * without a valid token is 401, not 400); `authorization` hands out the raw `Authorization`;
 * `ids` then parses the ids exactly as {@link parseEvotorHeaders} does (2003, then 2002).
 *
 * @internal
 *
 * @example
 * ```ts
 * const reader: EvotorHeaderReader = createEvotorHeaderReader({ required: ['userId'] })
 * ```
 */
export interface EvotorHeaderReader {
  read(headers: HeadersLike): RawEvotorHeaders
  /**
   * `read` for Node's `IncomingMessage.headers`: keys are lower-case and Node's parser has already
   * joined repeated `X-Evotor-*` values with ", " (a comma, which `ids` refuses) and kept the first
   * `Authorization`, so the four values are read by name. Anything else falls back to `read`.
   */
  readNode(headers: HeadersLike): RawEvotorHeaders
  /** The one raw `Authorization` value; `undefined` when absent or repeated (where still visible: Node keeps the first). */
  authorization(raw: RawEvotorHeaders): string | undefined
  ids(raw: RawEvotorHeaders): EvotorHeaderIds
}

/**
 * Compiles an {@link EvotorHeaderReader} for `options` (checked here, once).
 *
 * @throws {TypeError} for bad options.
 * @internal
 *
 * @example
 * ```ts
 * const reader = createEvotorHeaderReader({ required: ['storeUuid', 'userId'] })
 * const raw = reader.read(req.headers)
 * const token = reader.authorization(raw) // verify it first …
 * const { storeUuid, userId } = reader.ids(raw) // … then trust the ids
 * ```
 */
export function createEvotorHeaderReader(
  options: Pick<ParseEvotorHeadersOptions, 'strict' | 'required' | 'maxLength'> = {},
): EvotorHeaderReader {
  const { strict, required, maxLength } = resolveOptions({ ...options, authorization: false })
  const needStore = required.includes('storeUuid')
  const needDevice = required.includes('deviceUuid')
  const needUser = required.includes('userId')
  // Reported in the order `required` lists them, as parseEvotorHeaders does.
  const order = required.filter((field) => field !== 'authorization')
  return {
    read: (headers) => readHeaders(headers, LOWER_NAMES),
    readNode(headers) {
      const record = headers as Readonly<Record<string, unknown>>
      const store = record['x-evotor-store-uuid']
      const device = record['x-evotor-device-uuid']
      const user = record['x-evotor-user-id']
      const authorization = record.authorization
      return isStringOrAbsent(store) &&
        isStringOrAbsent(device) &&
        isStringOrAbsent(user) &&
        isStringOrAbsent(authorization)
        ? [store, device, user, authorization]
        : readHeaders(headers, LOWER_NAMES)
    },
    authorization(raw) {
      const value = raw[3]
      return value === REPEATED ? undefined : value
    },
    ids(raw) {
      for (let i = 0; i < 3; i++) {
        if (raw[i] === REPEATED) throw repeated(CANONICAL_NAMES[i] as string)
      }
      const store = raw[0] as string | undefined
      const device = raw[1] as string | undefined
      const user = raw[2] as string | undefined
      const ids: EvotorHeaderIds = {
        storeUuid: store === undefined ? undefined : parseId(store, 'storeUuid', maxLength, strict),
        deviceUuid: device === undefined ? undefined : parseId(device, 'deviceUuid', maxLength, strict),
        userId: user === undefined ? undefined : parseId(user, 'userId', maxLength, strict),
      }
      if (
        (needStore && ids.storeUuid === undefined) ||
        (needDevice && ids.deviceUuid === undefined) ||
        (needUser && ids.userId === undefined)
      ) {
        for (const field of order) {
          if (ids[field as keyof EvotorHeaderIds] === undefined)
            throw EvotorError.missing(EVOTOR_HEADER_NAMES[field])
        }
      }
      return ids
    },
  }
}
