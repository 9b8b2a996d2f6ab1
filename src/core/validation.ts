/**
 * Maps zod validation failures to the Evotor error protocol (protocol §5.3, design "Errors"):
 * incoming data that fails becomes a 400 `EvotorError`; outgoing data that fails is a programmer
 * error (`TypeError`) that the dispatcher answers with a 500.
 */
import { z } from 'zod'
import { EvotorError, MAX_ERROR_ITEMS } from './evotor-error.js'

/** Longest string echoed back in a 2003 `value` (protocol §11 A26). */
const MAX_VALUE_LENGTH = 256

/** Field names whose values are secrets and are never echoed (design "Security defaults"). */
const SECRET_KEY = /pass|token|secret|authori[sz]ation|credential/i

/**
 * Options of {@link toEvotorValidationError}.
 *
 * @example
 * ```ts
 * toEvotorValidationError(result.error, { input: query, rootSubject: 'query' })
 * ```
 */
export interface ToEvotorValidationErrorOptions {
  /**
   * The data that was validated. Used to tell a missing field from a wrong one when the issues
   * carry no `input` (parse without `reportInput: true`).
   */
  input?: unknown
  /** `subject` for a failure of the whole body (empty path); default `'body'`. */
  rootSubject?: string
  /** Failures already counted but not passed in `error` (validation that stopped early). */
  omitted?: number
}

/**
 * The `subject` of an issue path: segments joined with `.`, array indexes as plain numbers
 * (`0.uuid`, `data.items.2.price`).
 *
 * @example
 * ```ts
 * formatIssuePath([0, 'transactions', 3, 'sum']) // '0.transactions.3.sum'
 * ```
 */
export function formatIssuePath(path: readonly PropertyKey[], rootSubject = 'body'): string {
  if (path.length === 0) return rootSubject
  return path
    .map((segment) => (typeof segment === 'symbol' ? (segment.description ?? '') : String(segment)))
    .join('.')
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let current = data
  for (const segment of path) {
    if (typeof current !== 'object' || current === null) return undefined
    current = (current as Record<PropertyKey, unknown>)[segment]
  }
  return current
}

function isSecretPath(path: readonly PropertyKey[]): boolean {
  return path.some((segment) => typeof segment === 'string' && SECRET_KEY.test(segment))
}

/** The offending value as it may be echoed: short, and never a secret. */
function echoValue(value: unknown, path: readonly PropertyKey[]): unknown {
  if (value === undefined || value === null) return null
  if (isSecretPath(path)) return '[redacted]'
  if (typeof value === 'string')
    return value.length > MAX_VALUE_LENGTH ? value.slice(0, MAX_VALUE_LENGTH) : value
  if (typeof value === 'number' || typeof value === 'boolean') return value
  if (typeof value === 'object') {
    let json: string | undefined
    try {
      json = JSON.stringify(value)
    } catch {
      return null
    }
    if (json === undefined || json.length > MAX_VALUE_LENGTH || SECRET_KEY.test(json)) return null
    return JSON.parse(json)
  }
  return null
}

function issueInput(issue: z.core.$ZodIssue, options: ToEvotorValidationErrorOptions): unknown {
  if ('input' in issue && issue.input !== undefined) return issue.input
  if ('input' in options) return valueAt(options.input, issue.path)
  return undefined
}

function toError(issue: z.core.$ZodIssue, options: ToEvotorValidationErrorOptions): EvotorError[] {
  const subject = formatIssuePath(issue.path, options.rootSubject)
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => EvotorError.unexpected(formatIssuePath([...issue.path, key])))
  }
  const value = issueInput(issue, options)
  // Absent and null are the same for Evotor (protocol §5.2, §11 A33): both are "missing".
  if (value === undefined || value === null) {
    const reported = 'input' in issue || 'input' in options
    if (reported || issue.code === 'invalid_type') return [EvotorError.missing(subject)]
  }
  return [EvotorError.incorrect(subject, echoValue(value, issue.path))]
}

/**
 * Converts a `ZodError` from parsing Evotor's data into one `EvotorError` (several issues are
 * combined into one envelope): a missing (absent or `null`) required field -> 400/2002
 * `reason: "missing"`; any other failure -> 400/2003 `reason: "incorrect"` with the offending
 * `value` (`null` when absent, strings cut to 256 characters, objects only when short, secrets
 * such as `password`/`token` replaced by `"[redacted]"`). `subject` is the path joined with `.`
 * (array indexes as numbers: `0.uuid`); the whole body is `"body"`.
 *
 * @example
 * ```ts
 * const result = StoresSchema.safeParse([{ name: 'x' }], { reportInput: true })
 * if (!result.success) throw toEvotorValidationError(result.error)
 * // 400 {"errors":[{"code":2002,"reason":"missing","subject":"0.uuid"}]}
 * ```
 */
export function toEvotorValidationError(
  error: z.ZodError,
  options: ToEvotorValidationErrorOptions = {},
): EvotorError {
  // Only the first items are built: a million bad elements must not cost a million error objects.
  const shown = error.issues.slice(0, MAX_ERROR_ITEMS)
  const errors = shown.flatMap((issue) => toError(issue, options))
  if (errors.length === 0) return EvotorError.incorrect(options.rootSubject ?? 'body', null)
  return EvotorError.combine(errors, error.issues.length - shown.length + (options.omitted ?? 0))
}

/**
 * Parses data Evotor sent with a lenient protocol schema (from `evotor-partner/protocol`); returns
 * the parsed output or throws a 400 `EvotorError`: 2002 `missing` (absent or `null`) or 2003
 * `incorrect`, with the field path as `subject` (secrets redacted from `value`).
 *
 * @param schema - a zod schema, usually one of `evotor-partner/protocol`.
 * @param data - the decoded JSON (or query object).
 * @param options - `rootSubject`: the `subject` of a failure of the whole value (default `'body'`).
 * @returns the parsed value.
 * @throws EvotorError 400 when `data` does not fit `schema`.
 * @example
 * ```ts
 * import { parseIncoming } from 'evotor-partner'
 * import { SubscriptionEventSchema } from 'evotor-partner/protocol'
 * const event = parseIncoming(SubscriptionEventSchema, body)
 * ```
 */
export function parseIncoming<S extends z.ZodType>(
  schema: S,
  data: unknown,
  options: { rootSubject?: string } = {},
): z.output<S> {
  const result = schema.safeParse(data, { reportInput: true })
  if (result.success) return result.data
  throw toEvotorValidationError(result.error, { ...options, input: data })
}

/** Elements validated between two yields to the event loop. */
const CHUNK = 2000

const yieldToEventLoop: () => Promise<void> =
  typeof setImmediate === 'function'
    ? () => new Promise((resolve) => setImmediate(resolve))
    : () => new Promise((resolve) => setTimeout(resolve, 0))

/**
 * {@link parseIncoming} for bodies of any size (design "Hostile bodies"): a large array is
 * validated in chunks of 2,000 elements with a yield to the event loop between chunks, so other
 * requests are served meanwhile, and validation stops at the first chunk that brings the failures
 * to 20 (an answer lists 20 items; `moreErrors` counts the other failures found by then).
 * `schema` must treat array elements independently (every array route of the table does).
 *
 * @internal
 */
export async function parseIncomingAsync<S extends z.ZodType>(
  schema: S,
  data: unknown,
  options: Pick<ToEvotorValidationErrorOptions, 'rootSubject'> = {},
): Promise<z.output<S>> {
  return parseIncomingMaybeAsync(schema, data, options)
}

/**
 * {@link parseIncomingAsync} without a promise for the bodies validated in one go (all but arrays
 * longer than 2,000 elements): the output, or a promise of it; throws (or rejects with) the same
 * `EvotorError`.
 *
 * @internal
 */
export function parseIncomingMaybeAsync<S extends z.ZodType>(
  schema: S,
  data: unknown,
  options: Pick<ToEvotorValidationErrorOptions, 'rootSubject'> = {},
): z.output<S> | Promise<z.output<S>> {
  if (!Array.isArray(data) || data.length <= CHUNK) return parseIncoming(schema, data, options)
  return parseInChunks(schema, data, options)
}

async function parseInChunks<S extends z.ZodType>(
  schema: S,
  data: unknown[],
  options: Pick<ToEvotorValidationErrorOptions, 'rootSubject'>,
): Promise<z.output<S>> {
  const out: unknown[] = []
  const issues: z.core.$ZodIssue[] = []
  let omitted = 0
  for (let start = 0; start < data.length && issues.length < MAX_ERROR_ITEMS; start += CHUNK) {
    if (start > 0) await yieldToEventLoop()
    const result = schema.safeParse(data.slice(start, start + CHUNK), { reportInput: true })
    if (result.success) {
      if (!Array.isArray(result.data)) return parseIncoming(schema, data, options)
      if (issues.length === 0) for (const item of result.data) out.push(item)
      continue
    }
    for (const issue of result.error.issues) {
      if (issues.length >= MAX_ERROR_ITEMS) {
        omitted++
        continue
      }
      const [index, ...rest] = issue.path
      const path = typeof index === 'number' ? [index + start, ...rest] : issue.path
      issues.push({ ...issue, path })
    }
  }
  if (issues.length === 0) return out as z.output<S>
  const error = new z.ZodError(issues)
  throw toEvotorValidationError(error, { ...options, input: data, omitted })
}

/**
 * Validates what a handler returned against a strict response schema. A mismatch is a bug in
 * the handler, not Evotor's fault: this throws a `TypeError` naming the offending fields (never
 * their values), which the dispatcher turns into a 500.
 *
 * @example
 * ```ts
 * const body = validateOutgoing(UserVerifyResponseSchema, await handler(request), 'userVerify response')
 * ```
 */
export function validateOutgoing<S extends z.ZodType>(
  schema: S,
  data: unknown,
  label = 'response',
): z.output<S> {
  const result = schema.safeParse(data)
  if (result.success) return result.data
  const details = result.error.issues
    .map((issue) => {
      const where =
        issue.code === 'unrecognized_keys'
          ? issue.keys.map((key) => formatIssuePath([...issue.path, key])).join(', ')
          : formatIssuePath(issue.path, '(root)')
      return `${where}: ${issue.message}`
    })
    .join('; ')
  throw new TypeError(`Invalid ${label}: ${details}`)
}
