import type { Kysely } from 'kysely'
import type { AppDb, DatabaseKind, Schema } from '../database/index.js'

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

/**
 * A turn of the event loop: batches written in several transactions await it between them, so
 * other requests (and /health) are served meanwhile.
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/**
 * The key under which the database compares an id, for de-duplicating a batch in memory: SQLite's
 * `NOCASE` folds ASCII letters only; PostgreSQL's ICU `nocase` collation ignores case in every
 * script (`toLowerCase()` merges no two ids it keeps apart; the few it merges that `toLowerCase()`
 * does not, such as canonically equivalent spellings, are caught by {@link writeChunk}).
 *
 * @example
 * ```ts
 * idKey('sqlite', 'AbC-É') // 'abc-É'
 * idKey('postgres', 'AbC-É') // 'abc-é'
 * ```
 */
export function idKey(kind: DatabaseKind, id: string): string {
  return kind === 'sqlite' ? id.replace(/[A-Z]+/g, (letters) => letters.toLowerCase()) : id.toLowerCase()
}

/**
 * One row per id of a batch that may repeat one (in the same or another case), as a row-by-row
 * upsert leaves it: the LAST copy's fields under the FIRST copy's spelling (the spelling a new row
 * is stored with), at the first copy's place. A multi-row `INSERT … ON CONFLICT DO UPDATE` needs
 * it: PostgreSQL refuses a statement that updates one row twice.
 *
 * @param rows - the batch, in delivery order
 * @param key - the id as the database compares it ({@link idKey})
 * @param respell - `row` with its id replaced by `uuid`
 * @example
 * ```ts
 * lastCopies([{ uuid: 'a', n: 1 }, { uuid: 'A', n: 2 }], (id) => id.toLowerCase(), (r, uuid) => ({ ...r, uuid }))
 * // [{ uuid: 'a', n: 2 }]
 * ```
 */
export function lastCopies<T extends { readonly uuid: string }>(
  rows: readonly T[],
  key: (id: string) => string,
  respell: (row: T, uuid: string) => T,
): T[] {
  const byKey = new Map<string, T>()
  for (const row of rows) {
    const k = key(row.uuid)
    const first = byKey.get(k)
    byKey.set(k, first === undefined || first.uuid === row.uuid ? row : respell(row, first.uuid))
  }
  return [...byKey.values()]
}

/**
 * Writes a chunk of rows in one transaction with `write` (multi-row statements) and returns its
 * count. If PostgreSQL refuses a multi-row upsert because two rows are one key under its collation
 * although {@link idKey} told them apart (`ON CONFLICT DO UPDATE command cannot affect row a second
 * time`), the chunk is written again one row at a time, in order (the later copy wins).
 *
 * @example
 * ```ts
 * const written = await writeChunk(data, rows, async (trx, part) => upsertRows(trx, part))
 * ```
 */
export async function writeChunk<T>(
  data: AppDb,
  rows: readonly T[],
  write: (trx: Kysely<Schema>, rows: readonly T[]) => Promise<number>,
): Promise<number> {
  try {
    return await data.transaction((trx) => write(trx, rows))
  } catch (error) {
    // cardinality_violation: the transaction rolled back, nothing of the chunk is stored.
    if (rows.length < 2 || (error as { code?: unknown } | null)?.code !== '21000') throw error
    return data.transaction(async (trx) => {
      let written = 0
      for (const row of rows) written += await write(trx, [row])
      return written
    })
  }
}
