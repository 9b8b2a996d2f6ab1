import type { SqliteDatabase } from './db.js'
import { receiptAmount } from './repositories/receipts.js'
import { toDecimalString } from './util/decimal.js'

/** One schema step: SQL, or a function for steps that need JavaScript (exact decimals). */
export type Migration = string | ((db: SqliteDatabase) => void)

/**
 * Ordered schema migrations. Migration `i` brings the database to `PRAGMA user_version = i + 1`.
 * Never edit a shipped entry: append a new one.
 *
 * Ids from Evotor are opaque strings whose case must be kept (protocol §3.5) but which arrive
 * in different cases from different webhooks (§11 A2), so id columns use `COLLATE NOCASE`:
 * the stored value keeps its case, lookups ignore it.
 *
 * @example
 * ```ts
 * import { MIGRATIONS } from './migrations.js'
 * console.log(`schema version ${MIGRATIONS.length}`)
 * ```
 */
export const MIGRATIONS: readonly Migration[] = [
  `
  CREATE TABLE settings (
    key TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );

  CREATE TABLE partner_accounts (
    id INTEGER PRIMARY KEY,
    login TEXT UNIQUE,
    password_hash TEXT,
    evotor_user_id TEXT UNIQUE,
    has_billing INTEGER NOT NULL DEFAULT 0,
    profile TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );

  CREATE TABLE user_tokens (
    id INTEGER PRIMARY KEY,
    user_id TEXT NOT NULL,
    token TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    issued_at TEXT NOT NULL,
    revoked_at TEXT
  );
  CREATE UNIQUE INDEX user_tokens_one_active ON user_tokens (user_id) WHERE revoked_at IS NULL;

  CREATE TABLE evotor_tokens (
    user_id TEXT NOT NULL PRIMARY KEY,
    token TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );

  CREATE TABLE subscription_events (
    subscription_id TEXT NOT NULL COLLATE NOCASE,
    sequence_number INTEGER NOT NULL,
    type TEXT NOT NULL,
    raw TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (subscription_id, sequence_number)
  );

  CREATE TABLE subscriptions (
    subscription_id TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
    user_id TEXT NOT NULL,
    product_id TEXT,
    plan_id TEXT,
    device_number INTEGER,
    trial_period_duration TEXT,
    state TEXT NOT NULL,
    termination_requested INTEGER NOT NULL DEFAULT 0,
    next_billing_date TEXT,
    addons TEXT,
    last_sequence_number INTEGER NOT NULL,
    raw TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE INDEX subscriptions_user ON subscriptions (user_id);

  CREATE TABLE installation_events (
    id TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
    user_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    type TEXT NOT NULL,
    event_time TEXT,
    raw TEXT NOT NULL,
    received_at TEXT NOT NULL
  );

  CREATE TABLE installations (
    user_id TEXT NOT NULL,
    product_id TEXT NOT NULL COLLATE NOCASE,
    installed INTEGER NOT NULL,
    last_event_id TEXT NOT NULL,
    last_event_time TEXT,
    installed_at TEXT,
    uninstalled_at TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_id, product_id)
  );

  CREATE TABLE stores (
    uuid TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
    user_id TEXT NOT NULL,
    name TEXT,
    address TEXT,
    raw TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );

  CREATE TABLE devices (
    uuid TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
    user_id TEXT NOT NULL,
    store_uuid TEXT COLLATE NOCASE,
    name TEXT,
    timezone_offset INTEGER,
    raw TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );

  CREATE TABLE employees (
    uuid TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
    user_id TEXT NOT NULL,
    name TEXT,
    last_name TEXT,
    role TEXT,
    phone TEXT,
    raw TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );

  CREATE TABLE products (
    store_uuid TEXT NOT NULL COLLATE NOCASE,
    uuid TEXT NOT NULL COLLATE NOCASE,
    user_id TEXT NOT NULL,
    name TEXT,
    is_group INTEGER NOT NULL DEFAULT 0,
    type TEXT,
    measure_name TEXT,
    price TEXT,
    raw TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (store_uuid, uuid)
  );
  CREATE INDEX products_user ON products (user_id);

  CREATE TABLE product_codes (
    store_uuid TEXT NOT NULL COLLATE NOCASE,
    product_uuid TEXT NOT NULL COLLATE NOCASE,
    kind TEXT NOT NULL CHECK (kind IN ('barcode', 'alcocode')),
    code TEXT NOT NULL,
    PRIMARY KEY (store_uuid, product_uuid, kind, code),
    FOREIGN KEY (store_uuid, product_uuid) REFERENCES products (store_uuid, uuid) ON DELETE CASCADE
  );
  CREATE INDEX product_codes_lookup ON product_codes (kind, code);

  CREATE TABLE documents (
    store_uuid TEXT NOT NULL COLLATE NOCASE,
    uuid TEXT NOT NULL COLLATE NOCASE,
    user_id TEXT NOT NULL,
    type TEXT,
    device_uuid TEXT,
    close_date TEXT,
    raw TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (store_uuid, uuid)
  );

  CREATE TABLE receipts (
    id TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
    event_id TEXT,
    user_id TEXT NOT NULL,
    store_id TEXT COLLATE NOCASE,
    device_id TEXT,
    type TEXT,
    date_time TEXT,
    total_amount TEXT,
    raw TEXT NOT NULL,
    received_at TEXT NOT NULL
  );
  CREATE INDEX receipts_store_time ON receipts (store_id, date_time);

  CREATE TABLE idempotency_keys (
    key TEXT NOT NULL PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('claimed', 'done')),
    lease_until INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX idempotency_keys_done ON idempotency_keys (state, updated_at);

  CREATE TABLE subscription_sequences (
    subscription_id TEXT NOT NULL PRIMARY KEY,
    last_handled INTEGER NOT NULL
  );
  `,
  // When a token was last handed to Evotor: a late ApplicationUninstalled revokes only tokens
  // handed out before the uninstall happened (protocol §4.6).
  `
  ALTER TABLE user_tokens ADD COLUMN delivered_at TEXT;
  UPDATE user_tokens SET delivered_at = issued_at;
  `,
  // Tenancy: every Evotor id is unique per user, not globally (two users may own the same receipt,
  // document, subscription, store, terminal, employee or product id), so every table keyed by an
  // Evotor id gets the composite key (user_id, …). Amounts are re-read exactly from the stored
  // payloads (earlier versions rounded them or stored NULL).
  tenantKeysAndExactAmounts,
  // Reconciliation with the Evotor cloud (cloud-sync.ts): where each user's store was paged to, and
  // a lease per user so that two copies of the job never page the same user at once.
  `
  CREATE TABLE cloud_sync_cursors (
    user_id TEXT NOT NULL,
    store_id TEXT NOT NULL COLLATE NOCASE,
    cursor TEXT,
    since_ms INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_id, store_id)
  );
  CREATE TABLE cloud_sync_leases (
    user_id TEXT NOT NULL PRIMARY KEY,
    owner TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  );
  `,
]

function tenantKeysAndExactAmounts(db: SqliteDatabase): void {
  db.exec(`
  DROP INDEX subscriptions_user;
  DROP INDEX products_user;
  DROP INDEX product_codes_lookup;
  DROP INDEX receipts_store_time;
  ALTER TABLE product_codes RENAME TO product_codes_old;
  ALTER TABLE products RENAME TO products_old;
  ALTER TABLE subscription_events RENAME TO subscription_events_old;
  ALTER TABLE subscriptions RENAME TO subscriptions_old;
  ALTER TABLE installation_events RENAME TO installation_events_old;
  ALTER TABLE stores RENAME TO stores_old;
  ALTER TABLE devices RENAME TO devices_old;
  ALTER TABLE employees RENAME TO employees_old;
  ALTER TABLE documents RENAME TO documents_old;
  ALTER TABLE receipts RENAME TO receipts_old;

  CREATE TABLE subscription_events (
    user_id TEXT NOT NULL,
    subscription_id TEXT NOT NULL COLLATE NOCASE,
    sequence_number INTEGER NOT NULL,
    type TEXT NOT NULL,
    raw TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (user_id, subscription_id, sequence_number)
  );
  INSERT INTO subscription_events (user_id, subscription_id, sequence_number, type, raw, received_at)
    SELECT COALESCE(
             CASE WHEN json_valid(e.raw) AND json_type(e.raw, '$.userId') = 'text' THEN json_extract(e.raw, '$.userId') END,
             (SELECT s.user_id FROM subscriptions_old s WHERE s.subscription_id = e.subscription_id),
             ''),
           e.subscription_id, e.sequence_number, e.type, e.raw, e.received_at
    FROM subscription_events_old e;

  CREATE TABLE subscriptions (
    user_id TEXT NOT NULL,
    subscription_id TEXT NOT NULL COLLATE NOCASE,
    product_id TEXT,
    plan_id TEXT,
    device_number INTEGER,
    trial_period_duration TEXT,
    state TEXT NOT NULL,
    termination_requested INTEGER NOT NULL DEFAULT 0,
    next_billing_date TEXT,
    addons TEXT,
    last_sequence_number INTEGER NOT NULL,
    raw TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_id, subscription_id)
  );
  INSERT INTO subscriptions (user_id, subscription_id, product_id, plan_id, device_number, trial_period_duration,
      state, termination_requested, next_billing_date, addons, last_sequence_number, raw, updated_at)
    SELECT user_id, subscription_id, product_id, plan_id, device_number, trial_period_duration,
      state, termination_requested, next_billing_date, addons, last_sequence_number, raw, updated_at
    FROM subscriptions_old;

  CREATE TABLE installation_events (
    user_id TEXT NOT NULL,
    id TEXT NOT NULL COLLATE NOCASE,
    product_id TEXT NOT NULL,
    type TEXT NOT NULL,
    event_time TEXT,
    raw TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (user_id, id)
  );
  INSERT INTO installation_events (user_id, id, product_id, type, event_time, raw, received_at)
    SELECT user_id, id, product_id, type, event_time, raw, received_at FROM installation_events_old;

  CREATE TABLE stores (
    user_id TEXT NOT NULL,
    uuid TEXT NOT NULL COLLATE NOCASE,
    name TEXT,
    address TEXT,
    raw TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_id, uuid)
  );
  INSERT INTO stores (user_id, uuid, name, address, raw, updated_at)
    SELECT user_id, uuid, name, address, raw, updated_at FROM stores_old;

  CREATE TABLE devices (
    user_id TEXT NOT NULL,
    uuid TEXT NOT NULL COLLATE NOCASE,
    store_uuid TEXT COLLATE NOCASE,
    name TEXT,
    timezone_offset INTEGER,
    raw TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_id, uuid)
  );
  INSERT INTO devices (user_id, uuid, store_uuid, name, timezone_offset, raw, updated_at)
    SELECT user_id, uuid, store_uuid, name, timezone_offset, raw, updated_at FROM devices_old;

  CREATE TABLE employees (
    user_id TEXT NOT NULL,
    uuid TEXT NOT NULL COLLATE NOCASE,
    name TEXT,
    last_name TEXT,
    role TEXT,
    phone TEXT,
    raw TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_id, uuid)
  );
  INSERT INTO employees (user_id, uuid, name, last_name, role, phone, raw, updated_at)
    SELECT user_id, uuid, name, last_name, role, phone, raw, updated_at FROM employees_old;

  CREATE TABLE products (
    user_id TEXT NOT NULL,
    store_uuid TEXT NOT NULL COLLATE NOCASE,
    uuid TEXT NOT NULL COLLATE NOCASE,
    name TEXT,
    is_group INTEGER NOT NULL DEFAULT 0,
    type TEXT,
    measure_name TEXT,
    price TEXT,
    raw TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_id, store_uuid, uuid)
  );
  INSERT INTO products (user_id, store_uuid, uuid, name, is_group, type, measure_name, price, raw, updated_at)
    SELECT user_id, store_uuid, uuid, name, is_group, type, measure_name, price, raw, updated_at FROM products_old;

  CREATE TABLE product_codes (
    user_id TEXT NOT NULL,
    store_uuid TEXT NOT NULL COLLATE NOCASE,
    product_uuid TEXT NOT NULL COLLATE NOCASE,
    kind TEXT NOT NULL CHECK (kind IN ('barcode', 'alcocode')),
    code TEXT NOT NULL,
    PRIMARY KEY (user_id, store_uuid, product_uuid, kind, code),
    FOREIGN KEY (user_id, store_uuid, product_uuid) REFERENCES products (user_id, store_uuid, uuid) ON DELETE CASCADE
  );
  INSERT INTO product_codes (user_id, store_uuid, product_uuid, kind, code)
    SELECT p.user_id, c.store_uuid, c.product_uuid, c.kind, c.code
    FROM product_codes_old c JOIN products_old p ON p.store_uuid = c.store_uuid AND p.uuid = c.product_uuid
    ORDER BY c.rowid;

  CREATE TABLE documents (
    user_id TEXT NOT NULL,
    store_uuid TEXT NOT NULL COLLATE NOCASE,
    uuid TEXT NOT NULL COLLATE NOCASE,
    type TEXT,
    device_uuid TEXT,
    close_date TEXT,
    raw TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (user_id, store_uuid, uuid)
  );
  INSERT INTO documents (user_id, store_uuid, uuid, type, device_uuid, close_date, raw, received_at)
    SELECT user_id, store_uuid, uuid, type, device_uuid, close_date, raw, received_at FROM documents_old;

  CREATE TABLE receipts (
    user_id TEXT NOT NULL,
    id TEXT NOT NULL COLLATE NOCASE,
    event_id TEXT,
    store_id TEXT COLLATE NOCASE,
    device_id TEXT,
    type TEXT,
    date_time TEXT,
    total_amount TEXT NOT NULL,
    raw TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (user_id, id)
  );

  DROP TABLE product_codes_old;
  DROP TABLE products_old;
  DROP TABLE subscription_events_old;
  DROP TABLE subscriptions_old;
  DROP TABLE installation_events_old;
  DROP TABLE stores_old;
  DROP TABLE devices_old;
  DROP TABLE employees_old;
  DROP TABLE documents_old;

  CREATE INDEX product_codes_lookup ON product_codes (user_id, kind, code);
  CREATE INDEX receipts_store_time ON receipts (user_id, store_id, date_time);
  `)
  // Amounts re-read from the payload as received: exact, never NULL.
  const insertReceipt = db.prepare(
    `INSERT INTO receipts (user_id, id, event_id, store_id, device_id, type, date_time, total_amount, raw, received_at)
     VALUES (@user_id, @id, @event_id, @store_id, @device_id, @type, @date_time, @total_amount, @raw, @received_at)`,
  )
  const oldReceipts = db.prepare('SELECT * FROM receipts_old ORDER BY rowid').all() as Array<
    Record<string, unknown> & { raw: string; total_amount: string | null }
  >
  for (const row of oldReceipts) {
    insertReceipt.run({ ...row, total_amount: receiptAmountOf(row.raw, row.total_amount) })
  }
  db.exec('DROP TABLE receipts_old')
  const setPrice = db.prepare('UPDATE products SET price = ? WHERE rowid = ?')
  const prices = db.prepare('SELECT rowid AS id, raw FROM products').all() as Array<{
    id: number
    raw: string
  }>
  for (const { id, raw } of prices) {
    const price = (parseObject(raw) as { price?: unknown }).price
    setPrice.run(toDecimalString(price) ?? null, id)
  }
}

function parseObject(raw: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(raw)
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {}
  } catch {
    return {}
  }
}

/**
 * The exact amount of a stored receipt event ({@link receiptAmount}); the previously stored
 * value, or `'0'`, when the payload cannot give one.
 */
function receiptAmountOf(raw: string, stored: string | null): string {
  const data = parseObject(raw).data
  const amount =
    data !== null && typeof data === 'object' && !Array.isArray(data)
      ? receiptAmount(data as Record<string, unknown>)
      : undefined
  return amount ?? stored ?? '0'
}
