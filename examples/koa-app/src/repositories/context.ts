import type { Kysely } from 'kysely'
import type { AppDb, Schema } from '../database/index.js'

/** What every repository factory receives. */
export interface RepositoryContext {
  /** The database (transactions, locks). */
  readonly data: AppDb
  /** Its query builder (`data.db`). */
  readonly db: Kysely<Schema>
  /** Clock; injectable for tests. */
  readonly now: () => Date
}

/** A JSON object as received from Evotor (unknown fields kept). */
export type JsonObject = Readonly<Record<string, unknown>>

/**
 * `null` for absent values (protocol §11 A33: absent ≡ null); SQLite cannot bind `undefined`.
 *
 * @example
 * ```ts
 * orNull(undefined) // null
 * ```
 */
export function orNull<T>(value: T | null | undefined): T | null {
  return value === undefined ? null : value
}

/**
 * A string field of a payload, or `null` when absent or not a string.
 *
 * @example
 * ```ts
 * stringField({ name: 'Мой магазин' }, 'name') // 'Мой магазин'
 * ```
 */
export function stringField(object: JsonObject, key: string): string | null {
  const value = object[key]
  return typeof value === 'string' ? value : null
}

/**
 * A number field of a payload (JSON number or numeric string), or `null`.
 *
 * @example
 * ```ts
 * numberField({ timezoneOffset: '10800000' }, 'timezoneOffset') // 10800000
 * ```
 */
export function numberField(object: JsonObject, key: string): number | null {
  const value = object[key]
  if (typeof value === 'number' && Number.isFinite(value)) return value
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value)
  return null
}

/**
 * Parses a stored JSON column back into an object.
 *
 * @example
 * ```ts
 * parseJsonObject('{"a":1}') // { a: 1 }
 * ```
 */
export function parseJsonObject(text: string): JsonObject {
  const value: unknown = JSON.parse(text)
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : {}
}

/**
 * Asserts an id is a non-empty string. Repositories check this themselves because
 * `INSERT OR IGNORE` would silently skip a row whose key is `NULL`.
 *
 * @example
 * ```ts
 * requireId(item.uuid, 'stores[0].uuid') // throws TypeError when missing
 * ```
 */
export function requireId(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') throw new TypeError(`${name} must be a non-empty string`)
  return value
}
