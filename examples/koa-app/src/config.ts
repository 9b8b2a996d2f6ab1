import { randomBytes } from 'node:crypto'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { z } from 'zod'
import { LOG_LEVELS, type LogLevel } from './logger.js'
import type { SettingsRepository } from './repositories/settings.js'

/** `NODE_ENV` values the app knows. */
export type NodeEnv = 'development' | 'production' | 'test'

/** A `login:password` pair of Basic authentication. */
export interface BasicCredential {
  readonly username: string
  readonly password: string
}

/** Validated configuration from the environment. */
export interface Config {
  readonly port: number
  readonly host: string
  /** Absolute path of the SQLite file, or `:memory:` as given. */
  readonly databasePath: string
  /**
   * `DATABASE_URL`: a `postgres://` URL runs the app on PostgreSQL (then `databasePath` is not
   * used); unset means SQLite at `databasePath`.
   */
  readonly databaseUrl: string | undefined
  /** `REDIS_URL`: idempotency, ordering and revocation announcements in Redis (several instances). */
  readonly redisUrl: string | undefined
  /** `WEBHOOK_LEASE_MS`: how long a delivery's claim lasts (default 60 000). */
  readonly webhookLeaseMs: number | undefined
  /** `EVOTOR_APP_TOKEN`: the Bearer app credential typed into the developer portal. */
  readonly appToken: string | undefined
  /** `EVOTOR_APP_BASIC`: the Basic app credential, split at the first colon. */
  readonly appBasic: BasicCredential | undefined
  /** `USER_TOKEN_SECRET`, comma-separated: the first signs, all verify (rotation). Empty in development. */
  readonly userTokenSecrets: readonly string[]
  /** Proxy protocol version configured on the portal (protocol §7). */
  readonly proxyVersion: 1 | 2
  readonly logLevel: LogLevel
  readonly nodeEnv: NodeEnv
  /** `NODE_ENV === 'production'`: credentials are required, nothing is generated. */
  readonly production: boolean
}

/** One invalid variable. The message never contains a secret value. */
export interface ConfigProblem {
  readonly variable: string
  readonly message: string
}

/**
 * Thrown by {@link loadConfig}; `message` lists every problem on its own line.
 *
 * @example
 * ```ts
 * try { loadConfig() } catch (e) { if (e instanceof ConfigError) { console.error(e.message); process.exit(1) } }
 * ```
 */
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[]
  constructor(problems: readonly ConfigProblem[]) {
    const lines = problems.map((p) => `  - ${p.variable}: ${p.message}`)
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}`,
    )
    this.name = 'ConfigError'
    this.problems = problems
  }
}

/** `<example dir>/data/app.sqlite`. */
export const DEFAULT_DATABASE_PATH = fileURLToPath(new URL('../data/app.sqlite', import.meta.url))

/** Minimum length of each `USER_TOKEN_SECRET` entry. */
export const MIN_SECRET_LENGTH = 32

type Env = Readonly<Record<string, string | undefined>>

const SECRET_VARIABLES = new Set(['EVOTOR_APP_TOKEN', 'EVOTOR_APP_BASIC', 'USER_TOKEN_SECRET'])

const HINTS: Readonly<Record<string, string>> = {
  PORT: 'must be an integer from 1 to 65535 (default 3000)',
  HOST: 'must be a host name or IP address without spaces (default 127.0.0.1)',
  DATABASE_PATH: 'must be a file path',
  DATABASE_URL: 'must be a postgres:// or postgresql:// URL',
  REDIS_URL: 'must be a redis:// or rediss:// URL',
  WEBHOOK_LEASE_MS: 'must be an integer from 1000 to 600000 (default 60000)',
  EVOTOR_APP_TOKEN: 'must be printable ASCII without spaces (the token typed into the developer portal)',
  EVOTOR_APP_BASIC: 'must be "login:password" with a non-empty login and password',
  USER_TOKEN_SECRET: `must be one or more comma-separated secrets, each at least ${MIN_SECRET_LENGTH} characters`,
  EVOTOR_PROXY_VERSION: 'must be 2 (default) or 1',
  LOG_LEVEL: `must be one of ${LOG_LEVELS.join(', ')} (default info)`,
  NODE_ENV: 'must be development, production or test (default development)',
}

const schema = z.object({
  PORT: z
    .string()
    .regex(/^\d{1,5}$/)
    .transform(Number)
    .pipe(z.number().int().min(1).max(65535))
    .optional(),
  HOST: z
    .string()
    .regex(/^[^\s]+$/)
    .optional(),
  DATABASE_PATH: z.string().min(1).optional(),
  WEBHOOK_LEASE_MS: z
    .string()
    .regex(/^\d{1,6}$/)
    .transform(Number)
    .pipe(z.number().int().min(1000).max(600_000))
    .optional(),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/\S+$/i)
    .optional(),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/\S+$/i)
    .optional(),
  EVOTOR_APP_TOKEN: z
    .string()
    .regex(/^[\x21-\x7e]+$/)
    .optional(),
  EVOTOR_APP_BASIC: z
    .string()
    .regex(/^[^:]+:.+$/s)
    .transform((value): BasicCredential => {
      const colon = value.indexOf(':')
      return { username: value.slice(0, colon), password: value.slice(colon + 1) }
    })
    .optional(),
  USER_TOKEN_SECRET: z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    )
    .pipe(z.array(z.string().min(MIN_SECRET_LENGTH)).min(1))
    .optional(),
  EVOTOR_PROXY_VERSION: z.enum(['1', '2']).optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS).optional(),
  NODE_ENV: z.enum(['development', 'production', 'test']).optional(),
})

type Variable = keyof z.input<typeof schema>
const VARIABLES = Object.keys(schema.shape) as Variable[]

// Empty values count as unset (`FOO=` in a .env file); surrounding spaces are dropped.
function clean(env: Env): Partial<Record<Variable, string>> {
  const out: Partial<Record<Variable, string>> = {}
  for (const name of VARIABLES) {
    const value = env[name]?.trim()
    if (value) out[name] = value
  }
  return out
}

function describe(variable: string, value: string | undefined): string {
  const hint = HINTS[variable] ?? 'is invalid'
  if (value === undefined || SECRET_VARIABLES.has(variable)) return hint
  const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value
  return `${hint} (got ${JSON.stringify(shown)})`
}

/**
 * Reads and validates the configuration. Every bad variable is reported at once in a
 * {@link ConfigError}; secret values never appear in it. With `NODE_ENV=production` an app
 * credential (`EVOTOR_APP_TOKEN` and/or `EVOTOR_APP_BASIC`) and `USER_TOKEN_SECRET` are
 * required; otherwise missing secrets are generated later by {@link resolveSecrets}.
 *
 * @example
 * ```ts
 * const config = loadConfig() // process.env
 * const custom = loadConfig({ PORT: '8080', EVOTOR_PROXY_VERSION: '1' })
 * ```
 */
export function loadConfig(env: Env = process.env): Config {
  const raw = clean(env)
  const parsed = schema.safeParse(raw)
  const problems: ConfigProblem[] = []
  if (!parsed.success) {
    const bad = new Set<string>()
    for (const issue of parsed.error.issues) bad.add(String(issue.path[0] ?? 'environment'))
    for (const variable of bad)
      problems.push({ variable, message: describe(variable, raw[variable as Variable]) })
  }
  const production = raw.NODE_ENV === 'production'
  if (production) {
    if (raw.EVOTOR_APP_TOKEN === undefined && raw.EVOTOR_APP_BASIC === undefined) {
      problems.push({
        variable: 'EVOTOR_APP_TOKEN / EVOTOR_APP_BASIC',
        message: 'an app credential is required when NODE_ENV=production (set either or both)',
      })
    }
    if (raw.USER_TOKEN_SECRET === undefined) {
      problems.push({
        variable: 'USER_TOKEN_SECRET',
        message: `is required when NODE_ENV=production (${HINTS.USER_TOKEN_SECRET})`,
      })
    }
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems)
  const v = parsed.data
  return {
    port: v.PORT ?? 3000,
    host: v.HOST ?? '127.0.0.1',
    databasePath: resolveDatabasePath(v.DATABASE_PATH),
    databaseUrl: v.DATABASE_URL,
    redisUrl: v.REDIS_URL,
    webhookLeaseMs: v.WEBHOOK_LEASE_MS,
    appToken: v.EVOTOR_APP_TOKEN,
    appBasic: v.EVOTOR_APP_BASIC,
    userTokenSecrets: v.USER_TOKEN_SECRET ?? [],
    proxyVersion: v.EVOTOR_PROXY_VERSION === '1' ? 1 : 2,
    logLevel: v.LOG_LEVEL ?? 'info',
    nodeEnv: v.NODE_ENV ?? 'development',
    production,
  }
}

/**
 * Only the database path (for commands such as `add-account` that need no credentials).
 *
 * @example
 * ```ts
 * databasePathFromEnv({ DATABASE_PATH: 'tmp/app.sqlite' }) // '/abs/path/tmp/app.sqlite'
 * ```
 */
export function databasePathFromEnv(env: Env = process.env): string {
  return resolveDatabasePath(env.DATABASE_PATH?.trim() || undefined)
}

// `:memory:` is SQLite's in-memory database, not a file name to resolve against the cwd.
function resolveDatabasePath(value: string | undefined): string {
  if (value === undefined) return DEFAULT_DATABASE_PATH
  return value === ':memory:' ? value : resolve(value)
}

/** Credentials the app runs with, after development defaults were filled in. */
export interface ResolvedSecrets {
  readonly appCredential: {
    readonly bearer: readonly string[]
    readonly basic: readonly BasicCredential[]
  }
  /** Never empty: the first signs user tokens, all verify. */
  readonly userTokenSecrets: readonly [string, ...string[]]
  /** What came from the development settings in the database (print it for the developer). */
  readonly development: {
    /** The generated app token, when no app credential was configured. */
    readonly appToken: string | undefined
    /** Whether the user-token secret is the generated one. */
    readonly userTokenSecret: boolean
  }
}

/** Settings keys of the development secrets. */
export const DEV_SETTINGS = { appToken: 'dev.appToken', userTokenSecret: 'dev.userTokenSecret' } as const

function randomSecret(bytes: number): string {
  return randomBytes(bytes).toString('base64url')
}

/**
 * Completes the configured credentials. Outside production, a missing app token and a missing
 * user-token secret are generated once and persisted in the settings table, so restarts keep
 * them (and the user tokens already issued stay valid). In production nothing is generated.
 *
 * @example
 * ```ts
 * const secrets = await resolveSecrets(config, repos.settings)
 * if (secrets.development.appToken) console.log(`App token for the portal: ${secrets.development.appToken}`)
 * ```
 */
export async function resolveSecrets(
  config: Config,
  settings: Pick<SettingsRepository, 'getOrInsert'>,
): Promise<ResolvedSecrets> {
  const bearer = config.appToken === undefined ? [] : [config.appToken]
  const basic = config.appBasic === undefined ? [] : [config.appBasic]
  let devAppToken: string | undefined
  if (bearer.length === 0 && basic.length === 0) {
    if (config.production) throw new ConfigError([{ variable: 'EVOTOR_APP_TOKEN', message: 'is required' }])
    // base64url fits the documented header alphabet [A-Za-z0-9_=-] (protocol §4.3).
    devAppToken = await settings.getOrInsert(DEV_SETTINGS.appToken, randomSecret(32))
    bearer.push(devAppToken)
  }
  const [first, ...rest] = config.userTokenSecrets
  if (first !== undefined) {
    return {
      appCredential: { bearer, basic },
      userTokenSecrets: [first, ...rest],
      development: { appToken: devAppToken, userTokenSecret: false },
    }
  }
  if (config.production) throw new ConfigError([{ variable: 'USER_TOKEN_SECRET', message: 'is required' }])
  return {
    appCredential: { bearer, basic },
    userTokenSecrets: [await settings.getOrInsert(DEV_SETTINGS.userTokenSecret, randomSecret(48))],
    development: { appToken: devAppToken, userTokenSecret: true },
  }
}
