import type { Generated } from 'kysely'

/**
 * The app's tables as Kysely sees them, identical on SQLite and PostgreSQL. Exact decimals are
 * `TEXT`, timestamps ISO-8601 UTC `TEXT`, flags `0 | 1` integers, ids `TEXT` compared without
 * case (`COLLATE NOCASE` on SQLite, the `nocase` ICU collation on PostgreSQL).
 */
export interface Schema {
  settings: { key: string; value: string; updated_at: string }
  partner_accounts: {
    id: Generated<number>
    login: string | null
    password_hash: string | null
    evotor_user_id: string | null
    has_billing: number
    profile: string | null
    created_at: string
    updated_at: string
  }
  user_tokens: {
    id: Generated<number>
    user_id: string
    token: string
    token_hash: string
    issued_at: string
    revoked_at: string | null
    delivered_at: string | null
  }
  evotor_tokens: { user_id: string; token: string; updated_at: string }
  subscription_events: {
    user_id: string
    subscription_id: string
    sequence_number: number
    type: string
    raw: string
    received_at: string
  }
  subscriptions: {
    user_id: string
    subscription_id: string
    product_id: string | null
    plan_id: string | null
    device_number: number | null
    trial_period_duration: string | null
    state: string
    termination_requested: number
    next_billing_date: string | null
    addons: string | null
    last_sequence_number: number
    raw: string
    updated_at: string
    /** Events kept in `subscription_events` for this subscription (at most the history limit). */
    history_size: Generated<number>
  }
  installation_events: {
    user_id: string
    id: string
    product_id: string
    type: string
    event_time: string | null
    raw: string
    received_at: string
  }
  /** Per-user revoked-before marks (ms since the epoch), see `createDatabaseRevocations`. */
  token_revocations: {
    user_id: string
    revoked_before: number
  }
  installations: {
    user_id: string
    product_id: string
    installed: number
    last_event_id: string
    last_event_time: string | null
    installed_at: string | null
    uninstalled_at: string | null
    updated_at: string
  }
  stores: {
    user_id: string
    uuid: string
    name: string | null
    address: string | null
    raw: string
    updated_at: string
  }
  devices: {
    user_id: string
    uuid: string
    store_uuid: string | null
    name: string | null
    timezone_offset: number | null
    raw: string
    updated_at: string
  }
  employees: {
    user_id: string
    uuid: string
    name: string | null
    last_name: string | null
    role: string | null
    phone: string | null
    raw: string
    updated_at: string
  }
  products: {
    user_id: string
    store_uuid: string
    uuid: string
    name: string | null
    is_group: number
    type: string | null
    measure_name: string | null
    price: string | null
    raw: string
    updated_at: string
  }
  product_codes: {
    user_id: string
    store_uuid: string
    product_uuid: string
    kind: 'barcode' | 'alcocode'
    code: string
  }
  documents: {
    user_id: string
    store_uuid: string
    uuid: string
    type: string | null
    device_uuid: string | null
    close_date: string | null
    raw: string
    received_at: string
  }
  receipts: {
    user_id: string
    id: string
    event_id: string | null
    store_id: string | null
    device_id: string | null
    type: string | null
    date_time: string | null
    total_amount: string
    raw: string
    received_at: string
  }
  /**
   * Sales totals per user, store and UTC quarter-hour (`bucket`, the ISO start), maintained on
   * insert: `count` receipts, `total` their exact signed decimal sum (SELL +, PAYBACK −).
   */
  receipt_totals: { user_id: string; store_id: string; bucket: string; count: number; total: string }
  idempotency_keys: { key: string; state: 'claimed' | 'done'; lease_until: number; updated_at: number }
  subscription_sequences: { subscription_id: string; last_handled: number }
  cloud_sync_cursors: {
    user_id: string
    store_id: string
    cursor: string | null
    since_ms: number
    updated_at: string
  }
  cloud_sync_leases: { user_id: string; owner: string; expires_at: number }
}
