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
/** "Not sure this passes": run the zod schema instead. */
export const FAIL: unique symbol = Symbol('evotor-partner.fast-parse.fail')

/** A fast check: the output zod would produce for `value`, or {@link FAIL}. */
export type FastCheck = (value: unknown) => unknown

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

/** What zod's object schemas accept as an object (not `null`, not an array). */
export function isObjectValue(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * `keys`, checked at module load to be exactly `schema.shape`'s keys in order (throws otherwise): a
 * fast path written out by hand cannot drift from its schema unnoticed.
 */
export function schemaKeys(
  schema: { readonly shape: Readonly<Record<string, unknown>> },
  keys: readonly string[],
): SchemaKeys {
  const expected = Object.keys(schema.shape)
  if (expected.join() !== keys.join()) {
    throw new Error(`fast-parse: keys ${keys.join()} are not the schema's ${expected.join()}`)
  }
  return { order: [...keys], set: new Set(keys) }
}

/** A schema's keys, in schema order and as a set. */
export interface SchemaKeys {
  readonly order: readonly string[]
  readonly set: ReadonlySet<string>
}

/**
 * The catchall of `z.looseObject`: every key of `input` (`for…in`, as zod) that the schema does
 * not name is copied to `out` after the schema's keys, in input order; `__proto__` is left out.
 * Evotor sends the keys in the schema's order, so each key is first compared with the next one the
 * schema names (two property names compare as pointers); only a key out of that order is looked up
 * in the set.
 */
export function copyUnknownKeys(
  input: Record<string, unknown>,
  out: Record<string, unknown>,
  known: SchemaKeys,
): Record<string, unknown> {
  const order = known.order
  let next = 0
  for (const key in input) {
    if (next < order.length && key === order[next]) {
      next++
    } else if (!known.set.has(key) && key !== '__proto__') {
      out[key] = input[key]
    }
  }
  return out
}
