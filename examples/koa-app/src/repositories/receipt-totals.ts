import type { Kysely } from 'kysely'
import type { Schema } from '../database/schema.js'
import { negateDecimal, sumDecimals } from '../util/decimal.js'

/**
 * Width of one running-total bucket: a quarter of an hour. Every real time zone is a whole
 * number of quarter-hours from UTC, so a terminal's local day (see `dayRange`) is made of whole
 * buckets: a summary adds at most 96 stored totals, whatever the number of receipts. A range
 * that does not fall on bucket edges reads its partial edge buckets from the receipts themselves.
 */
export const BUCKET_MS = 15 * 60_000

/**
 * How each receipt type enters the sales summary: `1` added, `-1` subtracted. Types not listed
 * (e.g. `BUY`, `BUYBACK`) are not sales and are left out.
 */
export const SALES_RECEIPT_SIGNS: Readonly<Record<string, 1 | -1>> = Object.freeze({ SELL: 1, PAYBACK: -1 })

/** The fields of a stored receipt that the totals read. */
export interface TotalledReceipt {
  store_id: string | null
  type: string | null
  date_time: string | null
  total_amount: string
}

/** The signed amount of a receipt in the sales summary, or `undefined` when it is not a sale. */
export function signedAmount(receipt: Pick<TotalledReceipt, 'type' | 'total_amount'>): string | undefined {
  const sign = receipt.type === null ? undefined : SALES_RECEIPT_SIGNS[receipt.type.toUpperCase()]
  if (sign === undefined) return undefined
  return sign === -1 ? negateDecimal(receipt.total_amount) : receipt.total_amount
}

/** ISO start of the bucket holding `dateTime` (an ISO-8601 UTC string). */
export function bucketOf(dateTime: string): string | undefined {
  const at = Date.parse(dateTime)
  if (!Number.isFinite(at)) return undefined
  return new Date(Math.floor(at / BUCKET_MS) * BUCKET_MS).toISOString()
}

interface Group {
  storeId: string
  bucket: string
  count: number
  amounts: string[]
}

/** Sales receipts grouped by (store, bucket); ids compare without case, as the columns do. */
function groupSales(receipts: readonly TotalledReceipt[], userId: string): Map<string, Group> {
  const groups = new Map<string, Group>()
  for (const r of receipts) {
    if (r.store_id === null || r.date_time === null) continue
    const amount = signedAmount(r)
    const bucket = bucketOf(r.date_time)
    if (amount === undefined || bucket === undefined) continue
    const key = `${userId}\n${r.store_id.toLowerCase()}\n${bucket}`
    let group = groups.get(key)
    if (group === undefined) {
      group = { storeId: r.store_id, bucket, count: 0, amounts: [] }
      groups.set(key, group)
    }
    group.count += 1
    group.amounts.push(amount)
  }
  return groups
}

/**
 * Adds newly inserted receipts to their buckets' running totals, exactly (BigInt decimal
 * addition of the stored total and the new amounts). Call it in the transaction that inserted
 * them, after taking the user's receipts lock, so that totals and rows always commit together and
 * two instances never add to one bucket at once. Work: one read and one write per bucket touched.
 */
export async function addToTotals(
  trx: Kysely<Schema>,
  userId: string,
  receipts: readonly TotalledReceipt[],
): Promise<void> {
  for (const group of groupSales(receipts, userId).values()) {
    const current = await trx
      .selectFrom('receipt_totals')
      .select(['count', 'total'])
      .where('user_id', '=', userId)
      .where('store_id', '=', group.storeId)
      .where('bucket', '=', group.bucket)
      .executeTakeFirst()
    const count = Number(current?.count ?? 0) + group.count
    const total = sumDecimals(current === undefined ? group.amounts : [current.total, ...group.amounts], 0)
    await trx
      .insertInto('receipt_totals')
      .values({ user_id: userId, store_id: group.storeId, bucket: group.bucket, count, total })
      .onConflict((oc) =>
        oc.columns(['user_id', 'store_id', 'bucket']).doUpdateSet((eb) => ({
          count: eb.ref('excluded.count'),
          total: eb.ref('excluded.total'),
        })),
      )
      .execute()
  }
}

/**
 * Recomputes every running total from the stored receipts (the migration that introduced them;
 * a repair tool). Reads every receipt once.
 */
export async function rebuildReceiptTotals(db: Kysely<Schema>): Promise<void> {
  await db.deleteFrom('receipt_totals').execute()
  const users = await db.selectFrom('receipts').select('user_id').distinct().execute()
  for (const { user_id: userId } of users) {
    const receipts = await db
      .selectFrom('receipts')
      .select(['store_id', 'type', 'date_time', 'total_amount'])
      .where('user_id', '=', userId)
      .execute()
    for (const group of groupSales(receipts, userId).values()) {
      await db
        .insertInto('receipt_totals')
        .values({
          user_id: userId,
          store_id: group.storeId,
          bucket: group.bucket,
          count: group.count,
          total: sumDecimals(group.amounts, 0),
        })
        .execute()
    }
  }
}

/**
 * The sales of one user's store with `start <= dateTime < end`: the whole buckets inside the
 * range from the running totals, the partial buckets at its edges (only when the range does not
 * fall on bucket edges) from the receipts. Exact; every query is bound to `userId`.
 */
export async function summariseSales(
  db: Kysely<Schema>,
  userId: string,
  storeId: string,
  start: Date,
  end: Date,
): Promise<{ count: number; total: string }> {
  const from = start.getTime()
  const to = end.getTime()
  if (!(from < to)) return { count: 0, total: sumDecimals([]) }
  const inner = { from: Math.ceil(from / BUCKET_MS) * BUCKET_MS, to: Math.floor(to / BUCKET_MS) * BUCKET_MS }
  const edges: Array<[number, number]> = []
  let count = 0
  const amounts: string[] = []
  if (inner.from < inner.to) {
    const buckets = await db
      .selectFrom('receipt_totals')
      .select(['count', 'total'])
      .where('user_id', '=', userId)
      .where('store_id', '=', storeId)
      .where('bucket', '>=', new Date(inner.from).toISOString())
      .where('bucket', '<', new Date(inner.to).toISOString())
      .execute()
    for (const b of buckets) {
      count += Number(b.count)
      amounts.push(b.total)
    }
    if (from < inner.from) edges.push([from, inner.from])
    if (inner.to < to) edges.push([inner.to, to])
  } else {
    edges.push([from, to])
  }
  for (const [edgeFrom, edgeTo] of edges) {
    const rows = await db
      .selectFrom('receipts')
      .select(['type', 'total_amount'])
      .where('user_id', '=', userId)
      .where('store_id', '=', storeId)
      .where('date_time', '>=', new Date(edgeFrom).toISOString())
      .where('date_time', '<', new Date(edgeTo).toISOString())
      .execute()
    for (const r of rows) {
      const amount = signedAmount(r)
      if (amount === undefined) continue
      count += 1
      amounts.push(amount)
    }
  }
  return { count, total: sumDecimals(amounts) }
}
