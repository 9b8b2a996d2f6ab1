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
export const MIGRATIONS: readonly string[] = [
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
