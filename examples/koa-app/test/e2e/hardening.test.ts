// Review findings on the example app, over real HTTP with its real database (SQLite here, and
// PostgreSQL in the `koa-app-postgres` project): per-event work of subscription events, the
// store summary, large receipt batches and id lengths.
import { get as httpGet } from 'node:http'
import {
  buildReceipt,
  buildStores,
  buildSubscriptionEvent,
  randomEvotorUuid,
  randomUserId,
  randomUuid,
  type SubscriptionEventType,
} from 'evotor-partner/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ObservedQuery } from '../../src/database/index.js'
import { MAX_STORED_EVENT_CHARS, RECEIPTS_PER_TRANSACTION } from '../../src/repositories/index.js'
import type { TempDir } from '../helpers.js'
import {
  appAuth,
  bearer,
  call,
  createTestDir,
  errorCode,
  proxied,
  startTestApp,
  type TestApp,
  trpcData,
} from './harness.js'

/** GET on a connection of its own; resolves with the status. */
function freshGet(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpGet(url, { agent: false }, (response) => {
      response.resume()
      response.on('end', () => resolve(response.statusCode ?? 0))
    })
    request.on('error', reject)
  })
}

const NOW = new Date('2026-06-15T12:00:00.000Z')

let dir: TempDir
let t: TestApp
const queries: ObservedQuery[] = []
/** Called once when the handler of a route starts (its body read and validated, nothing written yet). */
const onHandler = new Map<string, () => void>()

beforeAll(async () => {
  dir = createTestDir()
  t = await startTestApp(dir, {
    now: () => NOW,
    queryObserver: (query) => queries.push(query),
    hooks: {
      beforeHandler(route) {
        const fn = onHandler.get(route)
        onHandler.delete(route)
        fn?.()
      },
    },
  })
})
afterAll(async () => {
  await t.close()
  dir.cleanup()
})

async function newUser(): Promise<{ userId: string; token: string }> {
  const userId = randomUserId()
  const created = await call(t.url, 'POST', '/api/v1/user/create', { auth: appAuth, body: { userId } })
  expect(created.status).toBe(200)
  return { userId, token: (created.json as { token: string }).token }
}

/** The queries run while `fn` runs (requests are sent one at a time, nothing else runs). */
async function observe<T>(fn: () => Promise<T>): Promise<{ result: T; seen: ObservedQuery[] }> {
  const from = queries.length
  const result = await fn()
  return { result, seen: queries.slice(from) }
}

const rowsFrom = (seen: readonly ObservedQuery[], table: string): number =>
  seen.filter((q) => q.table === table).reduce((sum, q) => sum + q.rows, 0)

/**
 * Calls /health when the handler of `route` starts; resolves with its status, when it was
 * answered and how long after the handler started. A new connection (agent: false): a pooled one
 * may have been closed by the server's keep-alive timeout while this process was busy sending.
 */
function healthWhenHandlerStarts(route: string): Promise<{ status: number; at: number; ms: number }> {
  return new Promise((resolve, reject) => {
    onHandler.set(route, () => {
      const started = performance.now()
      freshGet(`${t.url}/health`).then((status) => {
        const at = performance.now()
        resolve({ status, at, ms: at - started })
      }, reject)
    })
  })
}

/** Rows of `table` owned by `userId`. */
async function countRows(table: 'products' | 'product_codes' | 'stores', userId: string): Promise<number> {
  const row = await t.server.data.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .executeTakeFirstOrThrow()
  return Number(row.n)
}
const totalRows = (seen: readonly ObservedQuery[]): number => seen.reduce((sum, q) => sum + q.rows, 0)

describe('subscription events: constant work per event', () => {
  it('event N reads no history and no more rows than event 2', async () => {
    const { userId } = await newUser()
    const subscriptionId = randomUuid()
    const send = (type: SubscriptionEventType, sequenceNumber: number, extra: Record<string, unknown> = {}) =>
      call(t.url, 'POST', '/api/v1/subscription/event', {
        auth: appAuth,
        body: { ...buildSubscriptionEvent(type, { subscriptionId, sequenceNumber, userId }), ...extra },
      })
    expect((await send('SubscriptionCreated', 1)).status).toBe(200)
    const events = 120
    const perEvent: Array<{ history: number; rows: number }> = []
    for (let n = 2; n <= events; n++) {
      const type: SubscriptionEventType =
        n === 2 ? 'SubscriptionActivated' : n % 2 === 0 ? 'SubscriptionTermsChanged' : 'SubscriptionRenewed'
      const { result, seen } = await observe(() => send(type, n, { deviceNumber: n }))
      expect(result.status).toBe(200)
      perEvent.push({ history: rowsFrom(seen, 'subscription_events'), rows: totalRows(seen) })
    }
    // In order, the history is never read back: the old code re-read (and re-parsed) all of it.
    expect(perEvent.map((e) => e.history)).toEqual(perEvent.map(() => 0))
    const first = perEvent[0]!
    const last = perEvent.at(-1)!
    expect(last.rows).toBeLessThanOrEqual(first.rows)
    console.log(`rows read per subscription event: event 2 ${first.rows}, event ${events} ${last.rows}`)

    const subscription = await t.server.repos.subscriptions.get(userId, subscriptionId)
    expect(subscription).toMatchObject({
      state: 'ACTIVATED',
      deviceNumber: events,
      lastSequenceNumber: events,
    })
    // The history is still kept, append-only.
    const history = await t.server.data.db
      .selectFrom('subscription_events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('user_id', '=', userId)
      .executeTakeFirstOrThrow()
    expect(Number(history.n)).toBe(events)
  }, 120_000)

  it('a padded event is applied and stored cut down to its known fields', async () => {
    const { userId } = await newUser()
    const subscriptionId = randomUuid()
    const created = buildSubscriptionEvent('SubscriptionCreated', {
      subscriptionId,
      sequenceNumber: 1,
      userId,
    })
    const padded = {
      ...buildSubscriptionEvent('SubscriptionTermsChanged', { subscriptionId, sequenceNumber: 2, userId }),
      planId: 'pro',
      deviceNumber: 7,
      padding: 'x'.repeat(500_000),
    }
    expect(
      (await call(t.url, 'POST', '/api/v1/subscription/event', { auth: appAuth, body: created })).status,
    ).toBe(200)
    expect(
      (await call(t.url, 'POST', '/api/v1/subscription/event', { auth: appAuth, body: padded })).status,
    ).toBe(200)
    const subscription = await t.server.repos.subscriptions.get(userId, subscriptionId)
    expect(subscription).toMatchObject({ planId: 'pro', deviceNumber: 7, lastSequenceNumber: 2 })
    expect(subscription?.lastEvent).toMatchObject({ truncated: true, type: 'SubscriptionTermsChanged' })
    expect(subscription?.lastEvent).not.toHaveProperty('padding')
    const stored = await t.server.data.db
      .selectFrom('subscription_events')
      .select('raw')
      .where('user_id', '=', userId)
      .where('sequence_number', '=', 2)
      .executeTakeFirstOrThrow()
    expect(stored.raw.length).toBeLessThanOrEqual(MAX_STORED_EVENT_CHARS)
  })
})

function receipt(
  user: { userId: string },
  storeUuid: string,
  type: string,
  totalAmount: number | string,
  dateTime = '2026-06-15T09:10:00.000Z',
) {
  const base = buildReceipt({ userId: user.userId, storeUuid, deviceUuid: randomEvotorUuid() })
  return { ...base, data: { ...base.data, type, totalAmount, dateTime } }
}

describe('store summary: running totals, exact, per user', () => {
  it('sums exactly, per user, without reading the day’s receipts', async () => {
    const a = await newUser()
    const b = await newUser()
    const storeUuid = randomEvotorUuid()
    const batch = [
      receipt(a, storeUuid, 'SELL', '0.10'),
      receipt(a, storeUuid, 'SELL', 0.2),
      receipt(a, storeUuid, 'PAYBACK', '0.05', '2026-06-15T23:59:59.999Z'),
      receipt(a, storeUuid, 'BUY', '100'),
      receipt(a, storeUuid, 'SELL', '12345678901234567890.123456789', '2026-06-15T00:00:00.000Z'),
      // Outside the day (UTC: the terminal is not known, protocol §6.8).
      receipt(a, storeUuid, 'SELL', '1000', '2026-06-14T23:59:59.999Z'),
      receipt(a, storeUuid, 'SELL', '1000', '2026-06-16T00:00:00.000Z'),
      // Another store of the same user.
      receipt(a, randomEvotorUuid(), 'SELL', '1000'),
      // Many receipts in one quarter-hour.
      ...Array.from({ length: 300 }, () => receipt(a, storeUuid, 'SELL', '1.01', '2026-06-15T15:20:00.000Z')),
    ]
    expect(
      (await call(t.url, 'POST', '/api/v2/receipts', { auth: bearer(a.token), body: batch })).status,
    ).toBe(200)
    // B's receipt in a store with the same id: B's own, never in A's summary.
    const ofB = [receipt(b, storeUuid, 'SELL', '7.00')]
    expect((await call(t.url, 'POST', '/api/v2/receipts', { auth: bearer(b.token), body: ofB })).status).toBe(
      200,
    )

    const summaryOf = (user: { userId: string; token: string }, store = storeUuid) =>
      observe(async () =>
        trpcData(
          await proxied(t.url, '/trpc/store.summary', {
            userId: user.userId,
            token: user.token,
            storeUuid: store,
            deviceUuid: randomEvotorUuid(),
          }),
        ),
      )
    const ofA = await summaryOf(a)
    // 0.10 + 0.2 − 0.05 + 12345678901234567890.123456789 + 300 × 1.01
    expect(ofA.result).toMatchObject({ count: 304, total: '12345678901234568193.373456789' })
    // The day's 304 receipts are not read: at most one total per quarter-hour of the day.
    expect(rowsFrom(ofA.seen, 'receipts')).toBe(0)
    expect(rowsFrom(ofA.seen, 'receipt_totals')).toBeLessThanOrEqual(96)
    expect((await summaryOf(b)).result).toMatchObject({ count: 1, total: '7.00' })
    // Ids compare without case, as everywhere else in the app.
    expect((await summaryOf(a, storeUuid.toLowerCase())).result).toMatchObject({ count: 304 })
  })

  it('a re-delivered receipt does not count twice', async () => {
    const a = await newUser()
    const storeUuid = randomEvotorUuid()
    const sale = receipt(a, storeUuid, 'SELL', '5.55')
    expect(
      (await call(t.url, 'POST', '/api/v2/receipts', { auth: bearer(a.token), body: [sale] })).status,
    ).toBe(200)
    // The same receipt in another event (a new event id: the delivery is not a duplicate).
    const again = { ...sale, id: randomUuid() }
    expect(
      (await call(t.url, 'POST', '/api/v2/receipts', { auth: bearer(a.token), body: [again] })).status,
    ).toBe(200)
    const summary = trpcData(
      await proxied(t.url, '/trpc/store.summary', {
        ...a,
        storeUuid,
        deviceUuid: randomEvotorUuid(),
      }),
    )
    expect(summary).toMatchObject({ count: 1, total: '5.55' })
  })
})

describe('a 10 MB receipts batch', () => {
  it('is stored in chunks: /health is answered while it is written; a retry inserts nothing twice', async () => {
    const a = await newUser()
    const storeUuid = randomEvotorUuid()
    const batch: unknown[] = []
    let size = 2
    while (size < 9.5 * 1024 * 1024) {
      const r = receipt(a, storeUuid, 'SELL', '1.50')
      size += JSON.stringify(r).length + 1
      batch.push(r)
    }
    expect(batch.length).toBeGreaterThan(4 * RECEIPTS_PER_TRANSACTION)
    // When the handler starts (body read and validated, nothing written yet) /health is called:
    // it is answered before the batch is, because the batch yields between its transactions.
    const health = healthWhenHandlerStarts('receipts')
    const answer = await call(t.url, 'POST', '/api/v2/receipts', { auth: bearer(a.token), body: batch })
    const answeredAt = performance.now()
    expect(answer.status).toBe(200)
    const { status, at: healthAt, ms: healthMs } = await health
    expect(status).toBe(200)
    expect(healthAt).toBeLessThan(answeredAt)
    console.log(
      `${batch.length} receipts (${(size / 1048576).toFixed(1)} MB): /health answered ${Math.round(healthMs)} ms after the handler started, ${Math.round(answeredAt - healthAt)} ms before the batch`,
    )

    const count = async () =>
      Number(
        (
          await t.server.data.db
            .selectFrom('receipts')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('user_id', '=', a.userId)
            .executeTakeFirstOrThrow()
        ).n,
      )
    expect(await count()).toBe(batch.length)
    // Re-sent as the cloud would after a lost answer, and once more as new events: no receipt
    // is inserted twice and the totals count each once.
    const renamed = batch.map((r) => ({ ...(r as object), id: randomUuid() }))
    expect(
      (await call(t.url, 'POST', '/api/v2/receipts', { auth: bearer(a.token), body: renamed })).status,
    ).toBe(200)
    expect(await count()).toBe(batch.length)
    const summary = trpcData(
      await proxied(t.url, '/trpc/store.summary', { ...a, storeUuid, deviceUuid: randomEvotorUuid() }),
    )
    expect(summary).toMatchObject({ count: batch.length, total: (batch.length * 1.5).toFixed(2) })
  }, 120_000)
})

describe('a products delivery of 100,000 items and a stores delivery of 150,000', () => {
  it('are written in chunks: /health is answered while they are written, every row and code is stored', async () => {
    const a = await newUser()
    const storeUuid = randomEvotorUuid()
    const products = Array.from({ length: 100_000 }, (_, i) => ({
      uuid: `p-${i}`,
      name: `n${i}`,
      group: false,
      price: '1.50',
      barCodes: [String(2_000_000_000_000 + i)],
    }))
    const body = JSON.stringify(products)
    expect(Buffer.byteLength(body)).toBeLessThan(9 * 1024 * 1024)
    // As for receipts: /health is called when the handler starts and answered before the delivery,
    // because the delivery yields between its transactions (before: ~20 s with the loop held).
    let health = healthWhenHandlerStarts('products')
    const path = `/api/v1/inventories/stores/${storeUuid}/products`
    let answer = await call(t.url, 'POST', path, { auth: bearer(a.token), raw: body })
    let answeredAt = performance.now()
    expect(answer.status).toBe(200)
    let seen = await health
    expect(seen.status).toBe(200)
    expect(seen.at).toBeLessThan(answeredAt)
    console.log(
      `${products.length} products (${(Buffer.byteLength(body) / 1048576).toFixed(1)} MB): /health answered ${Math.round(seen.ms)} ms after the handler started, ${Math.round(answeredAt - seen.at)} ms before the delivery`,
    )
    expect(await countRows('products', a.userId)).toBe(products.length)
    expect(await countRows('product_codes', a.userId)).toBe(products.length)

    const stores = JSON.stringify(Array.from({ length: 150_000 }, (_, i) => ({ uuid: `s-${i}`, name: 'n' })))
    health = healthWhenHandlerStarts('stores')
    answer = await call(t.url, 'PUT', '/api/v1/inventories/stores', { auth: bearer(a.token), raw: stores })
    answeredAt = performance.now()
    expect(answer.status).toBe(200)
    seen = await health
    expect(seen.status).toBe(200)
    expect(seen.at).toBeLessThan(answeredAt)
    console.log(
      `150000 stores (${(stores.length / 1048576).toFixed(1)} MB): /health answered ${Math.round(seen.ms)} ms after the handler started, ${Math.round(answeredAt - seen.at)} ms before the delivery`,
    )
    expect(await countRows('stores', a.userId)).toBe(150_000)
  }, 180_000)
})

describe('id lengths', () => {
  const huge = 'a'.repeat(100_000)

  it('a 100 KB id is refused with 400/2003 on request and notification routes; 128 characters pass', async () => {
    const a = await newUser()
    const created = await call(t.url, 'POST', '/api/v1/user/create', {
      auth: appAuth,
      body: { userId: huge },
    })
    expect(created.status).toBe(400)
    expect(errorCode(created)).toBe(2003)

    const stores = await call(t.url, 'PUT', '/api/v1/inventories/stores', {
      auth: bearer(a.token),
      body: buildStores({ storeUuid: huge }),
    })
    expect(stores.status).toBe(400)
    expect(stores.json).toMatchObject({ errors: [{ code: 2003, subject: '0.uuid' }] })
    expect(stores.text.length).toBeLessThan(2_000)

    const long = receipt(a, randomEvotorUuid(), 'SELL', '1')
    const withHugeId = { ...long, data: { ...long.data, id: huge } }
    const refused = await call(t.url, 'POST', '/api/v2/receipts', {
      auth: bearer(a.token),
      body: [withHugeId],
    })
    expect(refused.status).toBe(400)
    expect(errorCode(refused)).toBe(2003)
    expect(await t.server.repos.receipts.get(a.userId, huge)).toBeUndefined()

    const longest = 'b'.repeat(128)
    const accepted = await call(t.url, 'PUT', '/api/v1/inventories/stores', {
      auth: bearer(a.token),
      body: buildStores({ storeUuid: longest }),
    })
    expect(accepted.status).toBe(200)
    expect(await t.server.repos.inventory.getStore(a.userId, longest)).toBeDefined()
  })

  it('a subscription event with a 100 KB id is acknowledged (event routes answer 200) and not stored', async () => {
    const { userId } = await newUser()
    const event = buildSubscriptionEvent('SubscriptionCreated', {
      subscriptionId: huge,
      sequenceNumber: 1,
      userId,
    })
    const answer = await call(t.url, 'POST', '/api/v1/subscription/event', { auth: appAuth, body: event })
    expect(answer.status).toBe(200)
    const stored = await t.server.data.db
      .selectFrom('subscription_events')
      .select('subscription_id')
      .where('user_id', '=', userId)
      .execute()
    expect(stored).toEqual([])
  })
})
