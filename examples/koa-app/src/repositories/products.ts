import { sql } from 'kysely'
import { toDecimalString } from '../util/decimal.js'
import {
  type JsonObject,
  parseJsonObject,
  type RepositoryContext,
  requireId,
  stringField,
} from './context.js'

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
   * Upserts products of one store in one transaction, replacing their codes; returns how many
   * were written. Rows are keyed by (user, store, uuid): another user's product under the same
   * (store, uuid) is a different row and is never touched.
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
      const at = now().toISOString()
      const rows = products.map((product, i) => {
        const o = product as unknown as JsonObject
        const row: ProductRow = {
          store_uuid: storeUuid,
          uuid: requireId(product.uuid, `products[${i}].uuid`),
          user_id: userId,
          name: stringField(o, 'name'),
          is_group: o.group === true ? 1 : 0,
          type: stringField(o, 'type'),
          measure_name: stringField(o, 'measureName'),
          price: toDecimalString(o.price) ?? null,
          raw: JSON.stringify(product),
          updated_at: at,
        }
        return { row, barcodes: productCodes(o, 'barcode'), alcocodes: productCodes(o, 'alcocode') }
      })
      if (rows.length === 0) return 0
      return data.transaction(async (trx) => {
        let written = 0
        for (const { row, barcodes, alcocodes } of rows) {
          // Keyed by the user too: another user's product under the same (store, uuid) is never touched.
          const result = await trx
            .insertInto('products')
            .values(row)
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
          if ((result.numInsertedOrUpdatedRows ?? 0n) === 0n) continue
          written++
          await trx
            .deleteFrom('product_codes')
            .where('user_id', '=', userId)
            .where('store_uuid', '=', storeUuid)
            .where('product_uuid', '=', row.uuid)
            .execute()
          const codes = [
            ...barcodes.map((code) => ({ kind: 'barcode' as const, code })),
            ...alcocodes.map((code) => ({ kind: 'alcocode' as const, code })),
          ]
          for (const { kind, code } of codes) {
            await trx
              .insertInto('product_codes')
              .values({ user_id: userId, store_uuid: storeUuid, product_uuid: row.uuid, kind, code })
              .onConflict((oc) => oc.doNothing())
              .execute()
          }
        }
        return written
      })
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
