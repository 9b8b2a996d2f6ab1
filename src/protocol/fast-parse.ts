/**
 * Hand-written fast paths for the hottest request schemas (design "Performance"): plain functions
 * that accept only input the zod schema certainly accepts and build exactly the output zod builds
 * (the same values, the same key order: the schema's keys first, in schema order, then the unknown
 * keys in input order), at a fraction of zod's cost. Anything else — a wrong type, a missing id,
 * an unusual object — answers {@link FAIL}, and the zod schema runs as before: it stays the one
 * authority for what is accepted, and the only source of error reports.
 *
 * @internal
 */
import type { z } from 'zod'

/** "Not sure this passes": run the zod schema instead. */
export const FAIL: unique symbol = Symbol('evotor-partner.fast-parse.fail')

/** A fast check: the output zod would produce for `value`, or {@link FAIL}. */
export type FastCheck = (value: unknown) => unknown

/** A check of a plain predicate: the value is kept as given (`z.string()`, `z.custom(pred)`). */
export function kept(predicate: (value: unknown) => boolean): FastCheck {
  return (value) => (predicate(value) ? value : FAIL)
}

/** `.nullish()` of a check: `undefined` and `null` pass as they are. */
export function nullish(check: FastCheck): FastCheck {
  return (value) => (value === undefined || value === null ? value : check(value))
}

/** `z.array(element)`: a new array of the elements' outputs. */
export function arrayOf(element: FastCheck): FastCheck {
  return (value) => {
    if (!Array.isArray(value)) return FAIL
    const out: unknown[] = new Array(value.length)
    for (let i = 0; i < value.length; i++) {
      const item = element(value[i])
      if (item === FAIL) return FAIL
      out[i] = item
    }
    return out
  }
}

/**
 * `z.record(z.string(), z.unknown())` for the plain objects `JSON.parse` makes: a copy of the own
 * enumerable keys (`__proto__` left out, as zod does). Other objects go to zod.
 */
export function plainRecordCopy(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype)
    return FAIL
  if (Object.hasOwn(value, 'constructor')) return FAIL
  const record = value as Record<string, unknown>
  const out: Record<string, unknown> = {}
  for (const key of Reflect.ownKeys(record)) {
    if (typeof key !== 'string') return FAIL
    if (key === '__proto__' || !Object.prototype.propertyIsEnumerable.call(record, key)) continue
    out[key] = record[key]
  }
  return out
}

interface Field {
  readonly key: string
  readonly check: FastCheck
  /** Absent fails (the schema is not optional). */
  readonly required: boolean
}

/**
 * `z.looseObject(shape)` from one fast check per key of `schema.shape` (a missing or extra check
 * throws here, at module load: the fast path cannot drift from the schema). Unknown keys are kept
 * after the schema's keys, in input order, as zod's catchall does.
 */
export function looseObject(
  schema: { readonly shape: Readonly<Record<string, z.ZodType>> },
  checks: Readonly<Record<string, FastCheck>>,
): FastCheck {
  const keys = Object.keys(schema.shape)
  const extra = Object.keys(checks).filter((key) => !keys.includes(key))
  if (extra.length > 0) throw new Error(`fast-parse: no such keys in the schema: ${extra.join(', ')}`)
  const fields: Field[] = keys.map((key) => {
    const check = checks[key]
    const field = schema.shape[key]
    if (check === undefined || field === undefined) throw new Error(`fast-parse: no check for key ${key}`)
    return { key, check, required: !field.safeParse(undefined).success }
  })
  const known = new Set(keys)
  return (value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return FAIL
    const input = value as Record<string, unknown>
    const out: Record<string, unknown> = {}
    for (const { key, check, required } of fields) {
      if (!(key in input)) {
        if (required) return FAIL
        continue
      }
      const item = check(input[key])
      if (item === FAIL) return FAIL
      out[key] = item
    }
    for (const key in input) if (!known.has(key) && key !== '__proto__') out[key] = input[key]
    return out
  }
}
