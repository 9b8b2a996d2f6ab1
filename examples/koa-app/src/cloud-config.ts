/** Settings of the app's calls to the Evotor cloud, read from the environment. */
export interface CloudConfig {
  /** `EVOTOR_CLOUD_URL`, e.g. `https://api.evotor.ru`. Unset: the cloud sync is off. */
  readonly baseUrl: string
  /** `EVOTOR_RECONCILE_INTERVAL_MS`: time between reconciliation runs; 0 = only on demand. Default 15 min. */
  readonly intervalMs: number
  /** `EVOTOR_RECONCILE_LOOKBACK_HOURS`: how far back the first run of a store looks. Default 72 h. */
  readonly lookbackMs: number
  /** How long one run may hold a user before another copy may take it over. */
  readonly leaseMs: number
  /** Time between polls of a bulk task. */
  readonly bulkPollMs: number
}

type Env = Readonly<Record<string, string | undefined>>

function integer(env: Env, name: string, fallback: number, min: number): number {
  const raw = env[name]
  if (raw === undefined || raw.trim() === '') return fallback
  if (!/^\d{1,12}$/.test(raw.trim()) || Number(raw) < min) {
    throw new Error(`Invalid configuration: ${name} must be an integer >= ${min}`)
  }
  return Number(raw)
}

/**
 * The cloud settings, or `undefined` when `EVOTOR_CLOUD_URL` is unset (no call to the cloud is made).
 *
 * @example
 * ```ts
 * const cloud = loadCloudConfig({ EVOTOR_CLOUD_URL: 'https://api.evotor.ru' }) // intervalMs 900000
 * ```
 */
export function loadCloudConfig(env: Env): CloudConfig | undefined {
  const url = env.EVOTOR_CLOUD_URL?.trim()
  if (url === undefined || url === '') return undefined
  if (!/^https?:\/\/[^\s]+$/.test(url))
    throw new Error('Invalid configuration: EVOTOR_CLOUD_URL must be an http(s) URL')
  return {
    baseUrl: url,
    intervalMs: integer(env, 'EVOTOR_RECONCILE_INTERVAL_MS', 15 * 60_000, 0),
    lookbackMs: integer(env, 'EVOTOR_RECONCILE_LOOKBACK_HOURS', 72, 1) * 3_600_000,
    leaseMs: integer(env, 'EVOTOR_RECONCILE_LEASE_MS', 10 * 60_000, 1000),
    bulkPollMs: integer(env, 'EVOTOR_BULK_POLL_MS', 1000, 1),
  }
}
