import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openDatabase } from '../src/db.js'
import { MIGRATIONS } from '../src/migrations.js'
import {
  createRepositories,
  type InventoryEntityInput,
  type ReceiptEventInput,
} from '../src/repositories/index.js'
import { createTempDir, type TempDir } from './helpers.js'

const USER = '01-000000000000001'
const OTHER = '01-000000000000002'
const STORE = '20170928-3176-40EB-80E2-A11F032E282A'
const SUB = 'a99fbf70-6307-4acc-b61c-741ee9eef6c0'
const AT = '2024-05-01T10:00:00.000Z'

/** Rows as the version-2 app wrote them (ids unique globally, amounts rounded or NULL). */
function seedVersion2(path: string): void {
  const db = openDatabase({ path, migrations: MIGRATIONS.slice(0, 2) })
  expect(db.version).toBe(2)
  const run = (sql: string, ...params: unknown[]) => db.sqlite.prepare(sql).run(...params)
  const subscriptionEvent = (n: number, type: string) =>
    run(
      'INSERT INTO subscription_events (subscription_id, sequence_number, type, raw, received_at) VALUES (?, ?, ?, ?, ?)',
      SUB,
      n,
      type,
      JSON.stringify({ subscriptionId: SUB, userId: USER, sequenceNumber: n, type, planId: 'basic' }),
      AT,
    )
  subscriptionEvent(1, 'SubscriptionCreated')
  subscriptionEvent(2, 'SubscriptionActivated')
  run(
    `INSERT INTO subscriptions (subscription_id, user_id, plan_id, state, last_sequence_number, raw, updated_at)
     VALUES (?, ?, 'basic', 'ACTIVATED', 2, ?, ?)`,
    SUB,
    USER,
    JSON.stringify({ subscriptionId: SUB, userId: USER, sequenceNumber: 2, type: 'SubscriptionActivated' }),
    AT,
  )
  run(
    `INSERT INTO installation_events (id, user_id, product_id, type, event_time, raw, received_at)
     VALUES ('ev-1', ?, 'app', 'ApplicationInstalled', ?, '{}', ?)`,
    USER,
    AT,
    AT,
  )
  run(
    `INSERT INTO installations (user_id, product_id, installed, last_event_id, last_event_time, installed_at, updated_at)
     VALUES (?, 'app', 1, 'ev-1', ?, ?, ?)`,
    USER,
    AT,
    AT,
    AT,
  )
  run(
    "INSERT INTO stores (uuid, user_id, name, raw, updated_at) VALUES (?, ?, 'Магазин', '{}', ?)",
    STORE,
    USER,
    AT,
  )
  run(
    "INSERT INTO devices (uuid, user_id, store_uuid, timezone_offset, raw, updated_at) VALUES ('dev-1', ?, ?, 10800000, '{}', ?)",
    USER,
    STORE,
    AT,
  )
  run(
    "INSERT INTO employees (uuid, user_id, name, raw, updated_at) VALUES ('emp-1', ?, 'Иван', '{}', ?)",
    USER,
    AT,
  )
  run(
    `INSERT INTO products (store_uuid, uuid, user_id, name, price, raw, updated_at)
     VALUES (?, 'prod-1', ?, 'Сидр', '0.12345679', ?, ?)`,
    STORE,
    USER,
    JSON.stringify({ uuid: 'prod-1', name: 'Сидр', price: '0.123456789' }),
    AT,
  )
  run(
    "INSERT INTO product_codes (store_uuid, product_uuid, kind, code) VALUES (?, 'prod-1', 'barcode', '2000000000060')",
    STORE,
  )
  run(
    "INSERT INTO documents (store_uuid, uuid, user_id, type, raw, received_at) VALUES (?, 'doc-1', ?, 'SELL', '{}', ?)",
    STORE,
    USER,
    AT,
  )
  const receipt = (id: string, stored: string | null, data: Record<string, unknown>) =>
    run(
      `INSERT INTO receipts (id, event_id, user_id, store_id, type, date_time, total_amount, raw, received_at)
       VALUES (?, ?, ?, ?, 'SELL', ?, ?, ?, ?)`,
      id,
      `event-${id}`,
      USER,
      STORE,
      AT,
      stored,
      JSON.stringify({
        id: `event-${id}`,
        userId: USER,
        data: { id, storeId: STORE, type: 'SELL', ...data },
      }),
      AT,
    )
  // Stored as NULL by version 2: more than 18 integer digits.
  receipt('huge', null, { totalAmount: '12345678901234567890.123456789' })
  // Rounded to 8 fraction digits by version 2.
  receipt('rounded', '0.12345679', { totalAmount: '0.123456789' })
  receipt('plain', '10.50', { totalAmount: '10.50' })
  run("INSERT INTO idempotency_keys (key, state, lease_until, updated_at) VALUES ('k', 'done', 0, 1)")
  run("INSERT INTO subscription_sequences (subscription_id, last_handled) VALUES ('opaque-key', 2)")
  db.close()
}

let dir: TempDir
let path: string
beforeEach(() => {
  dir = createTempDir()
  path = dir.file('app.sqlite')
  seedVersion2(path)
})
afterEach(() => dir.cleanup())

describe('migration 3: ids unique per user, exact amounts', () => {
  it('keeps every row of a version-2 database under its owner and re-reads the amounts exactly', () => {
    const db = openDatabase({ path })
    try {
      expect(db.version).toBe(MIGRATIONS.length)
      expect(db.sqlite.pragma('foreign_key_check')).toEqual([])
      expect(db.sqlite.pragma('integrity_check', { simple: true })).toBe('ok')
      const repos = createRepositories({ db: db.sqlite })
      expect(repos.subscriptions.get(USER, SUB)).toMatchObject({ state: 'ACTIVATED', lastSequenceNumber: 2 })
      // The events moved with their user: a redelivery is still a duplicate.
      expect(
        repos.subscriptions.applyEvent(USER, {
          subscriptionId: SUB,
          userId: USER,
          sequenceNumber: 2,
          type: 'SubscriptionActivated',
        }).duplicate,
      ).toBe(true)
      expect(repos.installations.get(USER, 'app')?.installed).toBe(true)
      expect(
        repos.installations.applyEvent(USER, {
          id: 'ev-1',
          type: 'ApplicationInstalled',
          data: { productId: 'app', userId: USER },
        }).duplicate,
      ).toBe(true)
      expect(repos.inventory.getStore(USER, STORE)?.name).toBe('Магазин')
      expect(repos.inventory.getDevice(USER, 'dev-1')?.timezoneOffset).toBe(10800000)
      expect(repos.inventory.getEmployee(USER, 'emp-1')?.name).toBe('Иван')
      expect(repos.products.findByBarcode({ userId: USER, storeUuid: STORE }, '2000000000060')).toMatchObject(
        {
          uuid: 'prod-1',
          price: '0.123456789',
        },
      )
      expect(repos.documents.get(USER, STORE, 'doc-1')?.type).toBe('SELL')
      expect(repos.receipts.get(USER, 'huge')?.totalAmount).toBe('12345678901234567890.123456789')
      expect(repos.receipts.get(USER, 'rounded')?.totalAmount).toBe('0.123456789')
      expect(repos.receipts.get(USER, 'plain')?.totalAmount).toBe('10.50')
      expect(repos.receipts.insert(USER, [{ data: { id: 'plain' } } as ReceiptEventInput]).duplicates).toBe(1)
      expect(
        repos.receipts.storeSummary(
          USER,
          STORE,
          new Date('2024-05-01T00:00:00Z'),
          new Date('2024-05-02T00:00:00Z'),
        ),
      ).toEqual({ count: 3, total: '12345678901234567900.746913578' })
      // The library's keys are opaque and kept as they were.
      expect(db.sqlite.prepare('SELECT key, state FROM idempotency_keys').all()).toEqual([
        { key: 'k', state: 'done' },
      ])
      expect(db.sqlite.prepare('SELECT * FROM subscription_sequences').all()).toEqual([
        { subscription_id: 'opaque-key', last_handled: 2 },
      ])
    } finally {
      db.close()
    }
  })

  it('after the migration another user can own the same ids without touching the first user’s rows', () => {
    const db = openDatabase({ path })
    try {
      const repos = createRepositories({ db: db.sqlite })
      expect(
        repos.subscriptions.applyEvent(OTHER, {
          subscriptionId: SUB,
          userId: OTHER,
          sequenceNumber: 2,
          type: 'SubscriptionTerminated',
        }).duplicate,
      ).toBe(false)
      expect(repos.subscriptions.get(USER, SUB)).toMatchObject({ userId: USER, state: 'ACTIVATED' })
      expect(repos.subscriptions.get(OTHER, SUB)).toMatchObject({ userId: OTHER, state: 'TERMINATED' })
      expect(
        repos.inventory.upsertStores(OTHER, [{ uuid: STORE, name: 'other' } as InventoryEntityInput]),
      ).toBe(1)
      expect(repos.inventory.getStore(USER, STORE)?.name).toBe('Магазин')
      expect(
        repos.receipts.insert(OTHER, [{ data: { id: 'huge', totalAmount: 1 } } as ReceiptEventInput]),
      ).toEqual({
        inserted: 1,
        duplicates: 0,
      })
      expect(repos.receipts.get(USER, 'huge')?.totalAmount).toBe('12345678901234567890.123456789')
      expect(repos.receipts.get(OTHER, 'huge')?.totalAmount).toBe('1')
    } finally {
      db.close()
    }
  })
})
