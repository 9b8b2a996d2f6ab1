import { type Kysely, sql } from 'kysely'
import type { DatabaseKind, Schema } from '../database/index.js'
import { toDecimalString } from '../util/decimal.js'
import {
  idKey,
  type JsonObject,
  lastCopies,
  nextTurn,
  parseJsonObject,
  type RepositoryContext,
  requireId,
  stringField,
  writeChunk,
} from './context.js'

/**
 * Products written per transaction: one multi-row upsert (10 columns: 4,000 bound parameters),
 * one DELETE of their codes and multi-row inserts of the new codes. A batch is written in chunks
 * with a turn of the event loop between them, so a 10 MB delivery never holds the loop (and, on
 * SQLite, the write lock) for the whole batch.
 */
export const PRODUCTS_PER_TRANSACTION = 400

/**
 * Codes (barcodes and EGAIS codes) written per transaction: a chunk of products ends before the
 * product whose codes would pass this. A single product with more codes is written alone, its
 * codes beyond the first {@link CODES_PER_TRANSACTION} in further transactions.
 */
export const CODES_PER_TRANSACTION = 4000

/** Codes per INSERT statement (5 columns: 5,000 bound parameters). */
const CODES_PER_STATEMENT = 1000

/** A product of the products webhook (protocol §6.10, §9.1): `uuid` plus any fields. */
export interface ProductInput {
  readonly uuid: string
}

/** A stored product. */
export interface ProductRecord {
  readonly storeUuid: string
  readonly uuid: string
  readonly userId: string
  readonly name: string | null
  readonly group: boolean
  readonly type: string | null
  readonly measureName: string | null
  /** Decimal string, as received (no float rounding). */
  readonly price: string | null
  readonly barCodes: readonly string[]
  readonly alcoCodes: readonly string[]
  readonly raw: JsonObject
  readonly updatedAt: string
}

/**
 * Where to look a product up: always one user's products (never another user's catalogue), in
 * one store or, without `storeUuid`, in all of the user's stores (`GET /commodities` has no store).
 */
export interface ProductScope {
  readonly userId: string
  readonly storeUuid?: string | undefined
}

/** Products per store, with their barcodes and EGAIS codes indexed for lookup. */
export interface ProductsRepository {
  /**
   * Upserts products of one store, replacing their codes; returns how many distinct products
   * were written (a uuid repeated in the batch, in any case, counts once: its last copy is
   * written, under the first copy's spelling when the product is new). Rows are keyed by (user,
   * store, uuid): another user's product under the same (store, uuid) is a different row and is
   * never touched. Every product is checked before the first write (one without `uuid` writes
   * nothing); then {@link PRODUCTS_PER_TRANSACTION} products (and at most
   * {@link CODES_PER_TRANSACTION} codes) are written per transaction, with a turn of the event
   * loop between transactions. A product's row and its codes are written in one transaction
   * (except the codes of a product with more than {@link CODES_PER_TRANSACTION}). A crash (or a
   * failure) in the middle of a batch leaves the chunks already committed, and the delivery is
   * not acknowledged: the cloud re-sends the whole batch, whose upserts are idempotent, so the
   * result is the same as if it had been written at once.
   */
  upsert(userId: string, storeUuid: string, products: readonly ProductInput[]): Promise<number>
  get(userId: string, storeUuid: string, uuid: string): Promise<ProductRecord | undefined>
  /** The most recently updated product with this barcode in the scope. */
  findByBarcode(scope: ProductScope, barcode: string): Promise<ProductRecord | undefined>
  /** The most recently updated product with this EGAIS alcohol code in the scope. */
  findByAlcoCode(scope: ProductScope, alcoCode: string): Promise<ProductRecord | undefined>
}

interface ProductRow {
  store_uuid: string
  uuid: string
  user_id: string
  name: string | null
  is_group: number
  type: string | null
  measure_name: string | null
  price: string | null
  raw: string
  updated_at: string
}

type CodeKind = 'barcode' | 'alcocode'

/**
 * The codes of a product: camelCase `barCodes`/`alcoCodes` or the lower-case aliases sent
 * until 2018 (protocol §11 A34); non-empty strings only, deduplicated.
 *
 * @example
 * ```ts
 * productCodes({ barcodes: ['2000000000060'] }, 'barcode') // ['2000000000060']
 * ```
 */
export function productCodes(product: JsonObject, kind: CodeKind): string[] {
  const keys = kind === 'barcode' ? ['barCodes', 'barcodes'] : ['alcoCodes', 'alcocodes']
  const codes = new Set<string>()
  for (const key of keys) {
    const value = product[key]
    if (!Array.isArray(value)) continue
    for (const code of value) if (typeof code === 'string' && code.trim() !== '') codes.add(code.trim())
  }
  return [...codes]
}

/** A code of a product, as stored (the product's uuid in the batch's spelling). */
interface ProductCode {
  product_uuid: string
  kind: CodeKind
  code: string
}

/** A product to write: its row and its codes. */
interface ProductItem {
  readonly row: ProductRow
  readonly codes: readonly ProductCode[]
}

/**
 * Deletes the codes of some products of one user's store: one statement. SQLite looks each uuid up
 * in the primary key (`product_uuid IN (…)`). PostgreSQL plans `product_uuid IN (…)` as a scan of
 * all the store's codes, filtered, while the table's statistics are stale (as during a first large
 * delivery), which made a delivery of 100,000 products quadratic: here each uuid is looked up in
 * the primary key by a sub-plan of its own, whatever the statistics, and the rows found are
 * deleted by their row ids.
 */
async function deleteCodes(
  trx: Kysely<Schema>,
  kind: DatabaseKind,
  userId: string,
  storeUuid: string,
  uuids: readonly string[],
): Promise<void> {
  if (kind === 'postgres') {
    await sql`
      DELETE FROM product_codes WHERE ctid = ANY (ARRAY(
        SELECT unnest(ARRAY(
          SELECT c.ctid FROM product_codes c
          WHERE c.user_id = ${userId} AND c.store_uuid = ${storeUuid} AND c.product_uuid = u.uuid
        ))
        FROM unnest(${[...uuids]}::text[]) AS u(uuid)
      ))`.execute(trx)
    return
  }
  await trx
    .deleteFrom('product_codes')
    .where('user_id', '=', userId)
    .where('store_uuid', '=', storeUuid)
    .where('product_uuid', 'in', uuids)
    .execute()
}

/** Inserts codes of one user's store, {@link CODES_PER_STATEMENT} per statement; a stored one is kept. */
async function insertCodes(
  trx: Kysely<Schema>,
  userId: string,
  storeUuid: string,
  codes: readonly ProductCode[],
): Promise<void> {
  for (let at = 0; at < codes.length; at += CODES_PER_STATEMENT) {
    await trx
      .insertInto('product_codes')
      .values(
        codes
          .slice(at, at + CODES_PER_STATEMENT)
          .map((code) => ({ user_id: userId, store_uuid: storeUuid, ...code })),
      )
      .onConflict((oc) => oc.doNothing())
      .execute()
  }
}

/**
 * Creates the products repository.
 *
 * @example
 * ```ts
 * const products = createProductsRepository({ data, db: data.db, now: () => new Date() })
 * products.upsert(userId, storeUuid, body)
 * products.findByBarcode({ userId, storeUuid }, '2000000000060')?.name // 'Сидр'
 * ```
 */
export function createProductsRepository(ctx: RepositoryContext): ProductsRepository {
  const { data, db, now } = ctx
  // Insertion order: SQLite's rowid, PostgreSQL's identity column `seq`.
  const order = (alias?: string) =>
    sql.raw(`${alias ? `${alias}.` : ''}${data.kind === 'sqlite' ? 'rowid' : 'seq'}`)

  const toProduct = async (row: ProductRow): Promise<ProductRecord> => {
    const codes = await db
      .selectFrom('product_codes')
      .select(['kind', 'code'])
      .where('user_id', '=', row.user_id)
      .where('store_uuid', '=', row.store_uuid)
      .where('product_uuid', '=', row.uuid)
      .orderBy(order())
      .execute()
    return {
      storeUuid: row.store_uuid,
      uuid: row.uuid,
      userId: row.user_id,
      name: row.name,
      group: row.is_group === 1,
      type: row.type,
      measureName: row.measure_name,
      price: row.price,
      barCodes: codes.filter((c) => c.kind === 'barcode').map((c) => c.code),
      alcoCodes: codes.filter((c) => c.kind === 'alcocode').map((c) => c.code),
      raw: parseJsonObject(row.raw),
      updatedAt: row.updated_at,
    }
  }

  const findByCode = async (
    kind: CodeKind,
    scope: ProductScope,
    code: string,
  ): Promise<ProductRecord | undefined> => {
    const row = await db
      .selectFrom('product_codes as c')
      .innerJoin('products as p', (join) =>
        join
          .onRef('p.user_id', '=', 'c.user_id')
          .onRef('p.store_uuid', '=', 'c.store_uuid')
          .onRef('p.uuid', '=', 'c.product_uuid'),
      )
      .selectAll('p')
      .where('c.user_id', '=', scope.userId)
      .where('c.kind', '=', kind)
      .where('c.code', '=', code.trim())
      .$if(scope.storeUuid !== undefined, (qb) => qb.where('c.store_uuid', '=', scope.storeUuid as string))
      .orderBy('p.updated_at', 'desc')
      .orderBy(sql`${order('p')} desc`)
      .limit(1)
      .executeTakeFirst()
    return row && toProduct(row)
  }

  return {
    async upsert(userId, storeUuid, products) {
      requireId(userId, 'userId')
      requireId(storeUuid, 'storeUuid')
      // Every uuid is checked before the first write: a batch with a bad one writes nothing.
      const copies = products.map((product, i) => ({
        uuid: requireId(product.uuid, `products[${i}].uuid`),
        product,
      }))
      // One product per uuid as the database compares them: a multi-row upsert never meets one
      // key twice. The last copy wins, as a row-by-row upsert would leave it.
      const unique = lastCopies(
        copies,
        (id) => idKey(data.kind, id),
        (copy, uuid) => ({ ...copy, uuid }),
      )
      const at = now().toISOString()
      // Built a chunk at a time, not all before the first write: serialising 100,000 products
      // would hold the event loop for as long as a transaction does.
      const build = ({ uuid, product }: (typeof unique)[number]): ProductItem => {
        const o = product as unknown as JsonObject
        const codes = (kind: CodeKind) =>
          productCodes(o, kind).map((code) => ({ product_uuid: uuid, kind, code }))
        return {
          row: {
            store_uuid: storeUuid,
            uuid,
            user_id: userId,
            name: stringField(o, 'name'),
            is_group: o.group === true ? 1 : 0,
            type: stringField(o, 'type'),
            measure_name: stringField(o, 'measureName'),
            price: toDecimalString(o.price) ?? null,
            raw: JSON.stringify(product),
            updated_at: at,
          },
          codes: [...codes('barcode'), ...codes('alcocode')],
        }
      }
      let transactions = 0
      // A turn of the event loop before every transaction but the first: other requests are
      // served meanwhile.
      const inTurn = async <T>(fn: () => Promise<T>): Promise<T> => {
        if (transactions++ > 0) await nextTurn()
        return fn()
      }
      let written = 0
      const writeProducts = async (items: readonly ProductItem[]): Promise<void> => {
        written += await inTurn(() =>
          writeChunk(data, items, async (trx, part) => {
            // Keyed by the user too: another user's product under the same (store, uuid) is
            // never touched, and the owner column is never updated.
            const result = await trx
              .insertInto('products')
              .values(part.map((item) => item.row))
              .onConflict((oc) =>
                oc.columns(['user_id', 'store_uuid', 'uuid']).doUpdateSet((eb) => ({
                  name: eb.ref('excluded.name'),
                  is_group: eb.ref('excluded.is_group'),
                  type: eb.ref('excluded.type'),
                  measure_name: eb.ref('excluded.measure_name'),
                  price: eb.ref('excluded.price'),
                  raw: eb.ref('excluded.raw'),
                  updated_at: eb.ref('excluded.updated_at'),
                })),
              )
              .executeTakeFirst()
            // The codes are replaced: the products' old codes go, their new ones come.
            await deleteCodes(
              trx,
              data.kind,
              userId,
              storeUuid,
              part.map((item) => item.row.uuid),
            )
            await insertCodes(
              trx,
              userId,
              storeUuid,
              part.flatMap((item) => item.codes),
            )
            return Number(result.numInsertedOrUpdatedRows ?? 0n)
          }),
        )
      }
      let chunk: ProductItem[] = []
      let chunkCodes = 0
      for (const copy of unique) {
        const item = build(copy)
        if (
          chunk.length === PRODUCTS_PER_TRANSACTION ||
          (chunk.length > 0 && chunkCodes + item.codes.length > CODES_PER_TRANSACTION)
        ) {
          await writeProducts(chunk)
          chunk = []
          chunkCodes = 0
        }
        if (item.codes.length > CODES_PER_TRANSACTION) {
          // Alone: its first codes with its row, the others in the transactions right after.
          await writeProducts([{ ...item, codes: item.codes.slice(0, CODES_PER_TRANSACTION) }])
          for (let from = CODES_PER_TRANSACTION; from < item.codes.length; from += CODES_PER_TRANSACTION) {
            const more = item.codes.slice(from, from + CODES_PER_TRANSACTION)
            await inTurn(() => data.transaction((trx) => insertCodes(trx, userId, storeUuid, more)))
          }
          continue
        }
        chunk.push(item)
        chunkCodes += item.codes.length
      }
      if (chunk.length > 0) await writeProducts(chunk)
      return written
    },
    async get(userId, storeUuid, uuid) {
      const row = await db
        .selectFrom('products')
        .selectAll()
        .where('user_id', '=', userId)
        .where('store_uuid', '=', storeUuid)
        .where('uuid', '=', uuid)
        .executeTakeFirst()
      return row && toProduct(row)
    },
    findByBarcode: (scope, barcode) => findByCode('barcode', scope, barcode),
    findByAlcoCode: (scope, alcoCode) => findByCode('alcocode', scope, alcoCode),
  }
}
