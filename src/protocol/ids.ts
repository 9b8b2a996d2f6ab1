/**
 * Wire primitives shared by every Evotor schema (protocol §3.5, §5.2, §11): opaque ids,
 * decimal-safe numbers, `+0000` date-times, instants, and the open discriminated union used for
 * events and transactions. Pure data; no I/O.
 *
 * Leniency conventions of the whole `protocol/` layer (protocol §11, "lenient parse, strict emit"):
 * - incoming objects are loose: unknown fields are kept in the output;
 * - optional fields are `.nullish()`: absent and `null` both pass and are kept as given (A33);
 * - money and quantities are {@link Decimal} (`number | string`), never converted to float (A30);
 * - date-times stay the raw string; {@link parseEvotorDateTime} turns one into a `Date` (A39).
 */
import { z } from 'zod'

/**
 * The longest id accepted: every documented id is a UUID (36 characters), a date-prefixed UUID
 * (36), a user id (18) or a 15-digit device number (protocol §3.5); 128 leaves room for formats
 * Evotor may add while keeping a hostile 100 KB "id" out of keys, logs and storage.
 */
const MAX_ID_LENGTH = 128

/**
 * An opaque Evotor identifier: any non-empty string of at most 128 characters, case kept
 * (protocol §3.5, §11 A2). Longer values are refused (400/2003 on the routes; on the event routes,
 * which answer only 200, the event goes to `unknownEvent` as invalid).
 *
 * @example
 * ```ts
 * EvotorIdSchema.parse('20170222-5670-4067-8017-FF5F40F1A23E') // kept as is, upper case too
 * EvotorIdSchema.safeParse('x'.repeat(129)).success // false
 * ```
 */
export const EvotorIdSchema = z.string().min(1).max(MAX_ID_LENGTH)

/**
 * An Evotor identifier (user id, store/device/product uuid …): an opaque non-empty string.
 *
 * @example
 * ```ts
 * const userId: EvotorId = '01-000000000000001'
 * ```
 */
export type EvotorId = z.output<typeof EvotorIdSchema>

/**
 * A decimal-safe number: a JSON number or a numeric string, kept exactly as received so that no
 * precision is lost (protocol §11 A17, A29, A30). Convert with your decimal library of choice.
 *
 * @example
 * ```ts
 * const price: Decimal = '3548.10'
 * ```
 */
export type Decimal = number | string

// Up to 40 digits and a two-digit exponent: always finite, and kept exactly as sent.
const NUMERIC_STRING = /^[+-]?(?=\.?\d)\d{0,40}(?:\.\d{0,40})?(?:[eE][+-]?\d{1,2})?$/

/**
 * The largest JSON number accepted as a {@link Decimal}: 2^53 / 1000, the largest magnitude at
 * which a double still holds every value with three decimals (quantities; money has two). A
 * larger JSON number has already lost digits when it is parsed, so it is refused rather than
 * stored wrong; Evotor may send such a value as a string, which is kept exactly.
 */
const MAX_EXACT_NUMBER = 2 ** 53 / 1000

/**
 * Schema of a {@link Decimal}: a JSON number that a double holds exactly to three decimals
 * (magnitude up to 9,007,199,254,740.992), or a numeric string (`"3548"`, `"-0.5"`, `"1e3"`, up
 * to 40 digits and a two-digit exponent, kept exactly). Other values are rejected (400/2003 on
 * the routes): non-numeric strings, `"1e400"`, `Infinity`, and numbers too large to be exact.
 * The value is returned unchanged.
 *
 * @example
 * ```ts
 * DecimalSchema.parse('7256.4') // '7256.4'
 * DecimalSchema.parse('12345678901234567890.123456789') // kept exactly, as a string
 * DecimalSchema.safeParse(12345678901234567890.123456789).success // false: digits already lost
 * DecimalSchema.safeParse('abc').success // false
 * ```
 */
export const DecimalSchema = z.custom<Decimal>(
  // One predicate instead of a union: this runs for every amount of every product (performance).
  isDecimal,
  'expected a number that is exact to 3 decimals, or a numeric string',
)

/**
 * Whether `value` passes {@link DecimalSchema} (the schema's own predicate).
 *
 * @internal
 */
export function isDecimal(value: unknown): value is Decimal {
  return typeof value === 'number'
    ? Number.isFinite(value) && Math.abs(value) <= MAX_EXACT_NUMBER
    : typeof value === 'string' && NUMERIC_STRING.test(value)
}

/**
 * Schema of an integer sent either as a JSON number or as a string of digits (counters, ordinal
 * numbers, offsets); the output is always a `number` (safe integers only).
 *
 * @example
 * ```ts
 * IntegerLikeSchema.parse('4') // 4
 * ```
 */
export const IntegerLikeSchema: z.ZodType<number, number | string> = z.union([
  z.int(),
  z
    .string()
    .regex(/^[+-]?\d{1,15}$/)
    .transform(Number),
])

/**
 * Schema of a value that is a number or a string (codes and counters whose type varies between
 * samples, protocol §11 A29); kept as given.
 *
 * @example
 * ```ts
 * NumberOrStringSchema.parse(2) // 2
 * NumberOrStringSchema.parse('23') // '23'
 * ```
 */
export const NumberOrStringSchema = z.custom<number | string>(
  isNumberOrString,
  'expected a number or a string',
)

/**
 * Whether `value` passes {@link NumberOrStringSchema} (the schema's own predicate).
 *
 * @internal
 */
export function isNumberOrString(value: unknown): value is number | string {
  return (typeof value === 'number' && Number.isFinite(value)) || typeof value === 'string'
}

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(?:([Zz])|([+-])(\d{2}):?(\d{2})?)?$/

/** The number of the `count` ASCII digits at `at`, or -1 when one of them is not a digit. */
function digitsAt(raw: string, at: number, count: number): number {
  let n = 0
  for (let i = at; i < at + count; i++) {
    const d = raw.charCodeAt(i) - 48
    if (!(d >= 0 && d <= 9)) return -1
    n = n * 10 + d
  }
  return n
}

/** A regexp capture of digits as a number (`0` when absent): `Number()` would call the runtime. */
function capture(text: string | undefined): number {
  return text === undefined ? 0 : digitsAt(text, 0, text.length)
}

/** The milliseconds of a fraction's `count` digits at `at`: the first three, right-padded (`.7` is 700). */
function fractionMillis(text: string, at: number, count: number): number {
  const used = Math.min(count, 3)
  return digitsAt(text, at, used) * 10 ** (3 - used)
}

/** 400 Gregorian years (146,097 days) in milliseconds. */
const MS_PER_400_YEARS = 146_097 * 86_400_000

/**
 * The instant of a date-time's fields, or `undefined` when one is out of range or the day does not
 * exist; `sign` 0 means no offset (UTC).
 */
function instantOf(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  millis: number,
  sign: -1 | 0 | 1,
  offsetHours: number,
  offsetMinutes: number,
): number | undefined {
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined
  // Date.UTC reads years 0-99 as 1900-1999; 400 Gregorian years on, the calendar repeats day for day.
  const utc =
    year < 100
      ? Date.UTC(year + 400, month - 1, day, hour, minute, second, millis) - MS_PER_400_YEARS
      : Date.UTC(year, month - 1, day, hour, minute, second, millis)
  // Date.UTC rolls 31 April over to 1 May: a mismatch means the day does not exist.
  if (new Date(utc).getUTCDate() !== day) return undefined
  // No offset: Evotor normalises date-times to UTC (protocol §5.2, §9.5 closeDate).
  if (sign === 0) return utc
  if (offsetHours > 23 || offsetMinutes > 59) return undefined
  return utc - sign * (offsetHours * 60 + offsetMinutes) * 60_000
}

/**
 * {@link dateTimeMillis} for the shape Evotor sends (`2017-01-10T09:33:19.757+0000`: seconds, an
 * optional `.` fraction, then `Z`, `±hhmm`, `±hh:mm` or nothing), read character by character:
 * the regexp's eleven captures cost several times more. `null` for any other shape, which the
 * regexp then reads; what this accepts, the regexp accepts with the same fields.
 */
function commonDateTimeMillis(raw: string): number | undefined | null {
  const n = raw.length
  if (n < 19) return null
  if (
    raw.charCodeAt(4) !== 45 || // -
    raw.charCodeAt(7) !== 45 ||
    raw.charCodeAt(10) !== 84 || // T
    raw.charCodeAt(13) !== 58 || // :
    raw.charCodeAt(16) !== 58
  ) {
    return null
  }
  const year = digitsAt(raw, 0, 4)
  const month = digitsAt(raw, 5, 2)
  const day = digitsAt(raw, 8, 2)
  const hour = digitsAt(raw, 11, 2)
  const minute = digitsAt(raw, 14, 2)
  const second = digitsAt(raw, 17, 2)
  if ((year | month | day | hour | minute | second) < 0) return null
  let at = 19
  let millis = 0
  if (at < n && raw.charCodeAt(at) === 46) {
    // `.` and 1 to 9 digits.
    const start = ++at
    while (at < n && at - start < 10) {
      const d = raw.charCodeAt(at) - 48
      if (!(d >= 0 && d <= 9)) break
      at++
    }
    const count = at - start
    if (count === 0 || count > 9) return null
    millis = fractionMillis(raw, start, count)
  }
  if (at === n || (at === n - 1 && raw.charCodeAt(at) === 90)) {
    return instantOf(year, month, day, hour, minute, second, millis, 0, 0, 0)
  }
  const c = raw.charCodeAt(at)
  if (c !== 43 && c !== 45) return null
  const colon = n - at === 6 && raw.charCodeAt(at + 3) === 58
  if (n - at !== 5 && !colon) return null
  const offsetHours = digitsAt(raw, at + 1, 2)
  const offsetMinutes = digitsAt(raw, colon ? at + 4 : at + 3, 2)
  if ((offsetHours | offsetMinutes) < 0) return null
  return instantOf(
    year,
    month,
    day,
    hour,
    minute,
    second,
    millis,
    c === 45 ? -1 : 1,
    offsetHours,
    offsetMinutes,
  )
}

function dateTimeMillis(raw: string): number | undefined {
  const common = commonDateTimeMillis(raw)
  if (common !== null) return common
  const m = DATE_TIME.exec(raw)
  if (m === null) return undefined
  const fraction = m[7]
  const millis = fraction === undefined ? 0 : fractionMillis(fraction, 0, fraction.length)
  const sign = m[9] === undefined ? 0 : m[9] === '-' ? -1 : 1
  return instantOf(
    capture(m[1]),
    capture(m[2]),
    capture(m[3]),
    capture(m[4]),
    capture(m[5]),
    capture(m[6]),
    millis,
    sign,
    capture(m[10]),
    capture(m[11]),
  )
}

/**
 * Whether `raw` is a date-time the library can read: ISO 8601 with the Evotor offset without a
 * colon (`2017-01-10T09:33:19.757+0000`), with a colon (`+03:00`), `Z`, or no offset (UTC).
 *
 * @example
 * ```ts
 * isEvotorDateTime('2017-01-10T09:33:19.757+0000') // true
 * isEvotorDateTime('yesterday') // false
 * ```
 */
export function isEvotorDateTime(raw: string): boolean {
  return dateTimeMillis(raw) !== undefined
}

/**
 * Parses an Evotor date-time string into a `Date` (protocol §5.2: the `+0000` offset without a
 * colon is not portable through `Date.parse`). Throws a `RangeError` for anything else.
 *
 * @example
 * ```ts
 * parseEvotorDateTime('2017-04-20T18:26:37.753+0000').toISOString() // '2017-04-20T18:26:37.753Z'
 * ```
 */
export function parseEvotorDateTime(raw: string): Date {
  const millis = dateTimeMillis(raw)
  if (millis === undefined)
    throw new RangeError(`Not an Evotor date-time: ${JSON.stringify(raw.slice(0, 64))}`)
  return new Date(millis)
}

/**
 * Schema of an Evotor date-time: the raw string is validated and kept as received (so it can be
 * stored and echoed byte for byte); call {@link parseEvotorDateTime} to get a `Date`.
 *
 * @example
 * ```ts
 * const raw = EvotorDateTimeSchema.parse('2017-01-10T09:33:19.757+0000')
 * const date = parseEvotorDateTime(raw)
 * ```
 */
export const EvotorDateTimeSchema = z
  .string()
  .refine(isEvotorDateTime, 'expected a date-time such as 2017-01-10T09:33:19.757+0000')

/**
 * A validated Evotor date-time string (`2017-01-10T09:33:19.757+0000`), kept raw.
 *
 * @example
 * ```ts
 * const at: EvotorDateTime = event.timestamp
 * parseEvotorDateTime(at)
 * ```
 */
export type EvotorDateTime = string

/**
 * A point in time as Evotor sends it in receipts and installation events (protocol §11 A17, A18):
 * Unix epoch as a number or numeric string, or a date-time string. Kept raw.
 *
 * @example
 * ```ts
 * const at: EvotorInstant = '1496826444000001'
 * parseEvotorInstant(at)
 * ```
 */
export type EvotorInstant = number | string

const EPOCH = /^[+-]?\d+(?:\.\d+)?$/

/**
 * Turns an {@link EvotorInstant} into a `Date`. Epoch values are read as microseconds when
 * ≥ 10^14, milliseconds when ≥ 10^12, seconds otherwise (protocol §11 A17: the receipt example
 * `"1496826444000001"` has 16 digits); strings that are not numeric are read as date-times.
 * Throws a `RangeError` when the value is neither.
 *
 * @example
 * ```ts
 * parseEvotorInstant(1504168645290).toISOString() // '2017-08-31T08:37:25.290Z'
 * parseEvotorInstant('2017-06-07T12:55:18Z')
 * ```
 */
export function parseEvotorInstant(value: EvotorInstant): Date {
  if (typeof value === 'string' && !EPOCH.test(value)) return parseEvotorDateTime(value)
  const n = Number(value)
  if (!Number.isFinite(n)) throw new RangeError('Not an Evotor instant')
  const abs = Math.abs(n)
  const millis = abs >= 1e14 ? n / 1000 : abs >= 1e12 ? n : n * 1000
  return new Date(Math.trunc(millis))
}

/**
 * Schema of an {@link EvotorInstant}: a finite number, a numeric string or a date-time string;
 * kept raw.
 *
 * @example
 * ```ts
 * EvotorInstantSchema.parse('1496826444000001') // '1496826444000001'
 * ```
 */
export const EvotorInstantSchema: z.ZodType<EvotorInstant, EvotorInstant> = z.union([
  z.number(),
  z.string().refine(isEvotorInstantString, 'expected an epoch or a date-time'),
])

/**
 * Whether a string passes {@link EvotorInstantSchema}: an epoch or a date-time.
 *
 * @internal
 */
export function isEvotorInstantString(value: string): boolean {
  return EPOCH.test(value) || isEvotorDateTime(value)
}

/**
 * Whether `value` passes {@link EvotorIdSchema}: a string of 1 to 128 characters.
 *
 * @internal
 */
export function isEvotorId(value: unknown): value is EvotorId {
  return typeof value === 'string' && value.length >= 1 && value.length <= MAX_ID_LENGTH
}

/**
 * The `type` every unrecognised event or transaction is given in the parsed output; the value
 * Evotor sent is kept in `rawType` (protocol §11 A20, A29). A literal other than `string` is what
 * lets TypeScript narrow `event.type === 'SubscriptionCreated'` to its member.
 *
 * @example
 * ```ts
 * if (event.type === UNKNOWN_TYPE) log.warn('unknown event', event.rawType)
 * ```
 */
export const UNKNOWN_TYPE = 'Unknown' as const

/**
 * The output shape added to the open member of an {@link openUnion}.
 *
 * @example
 * ```ts
 * const marker: UnknownTypeMarker = { type: 'Unknown', rawType: 'SubscriptionCancelled' }
 * ```
 */
export interface UnknownTypeMarker {
  type: typeof UNKNOWN_TYPE
  /** The `type` exactly as Evotor sent it. */
  rawType: string
}

/** A loose object schema whose discriminator is a literal. */
type Member = z.ZodObject

/**
 * Options of {@link openUnion}.
 *
 * @example
 * ```ts
 * const options: OpenUnionOptions = { normaliseType: (raw) => raw.charAt(0).toUpperCase() + raw.slice(1) }
 * ```
 */
export interface OpenUnionOptions {
  /** Maps a raw discriminator that matched no member to a candidate (for example PascalCase). */
  normaliseType?: (raw: string) => string
  /** Rewrites the raw object before dispatch (for aliases); must not mutate its argument. */
  prepare?: (input: Record<string, unknown>) => Record<string, unknown>
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * A discriminated union with an open member (protocol §12 item 8): objects whose `key` matches a
 * member's literal are parsed by that member (so errors point at the member's fields); any other
 * non-empty string is parsed by `fallback`, and the output gets `type: 'Unknown'` and `rawType`.
 * Building block of the event and transaction schemas; not part of the public API.
 *
 * @example
 * ```ts
 * const Event = openUnion('type', [A, B], z.looseObject({ id: z.string().nullish() }))
 * ```
 */
export function openUnion<const Members extends readonly Member[], Fallback extends Member>(
  key: 'type',
  members: Members,
  fallback: Fallback,
  options: OpenUnionOptions = {},
) {
  type Out = z.output<Members[number]> | (z.output<Fallback> & UnknownTypeMarker)
  const byType = new Map<unknown, Member>()
  for (const member of members) {
    const discriminator = member.shape[key]
    if (!(discriminator instanceof z.ZodLiteral))
      throw new TypeError(`openUnion: every member needs a literal "${key}"`)
    for (const value of discriminator.values) byType.set(value, member)
  }
  const { normaliseType, prepare } = options
  return z.unknown().transform((input, ctx): Out => {
    if (!isRecord(input)) {
      ctx.issues.push({ code: 'invalid_type', expected: 'object', input })
      return z.NEVER
    }
    let value = prepare === undefined ? input : prepare(input)
    const raw = value[key]
    if (typeof raw !== 'string' || raw === '') {
      ctx.issues.push({ code: 'invalid_type', expected: 'string', input: raw, path: [key] })
      return z.NEVER
    }
    let member = byType.get(raw)
    if (member === undefined && normaliseType !== undefined) {
      const normalised = normaliseType(raw)
      member = byType.get(normalised)
      if (member !== undefined) value = { ...value, [key]: normalised }
    }
    const result = (member ?? fallback).safeParse(value, { reportInput: true })
    if (!result.success) {
      for (const issue of result.error.issues) ctx.issues.push(issue as z.core.$ZodRawIssue)
      return z.NEVER
    }
    if (member !== undefined) return result.data as Out
    const data = result.data as Record<string, unknown>
    data[key] = UNKNOWN_TYPE
    data.rawType = raw
    return data as Out
  })
}
