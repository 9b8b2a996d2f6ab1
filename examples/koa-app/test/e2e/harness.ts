import { createHash } from 'node:crypto'
import type { RouteName } from 'evotor-partner/protocol'
import { buildProxyHeaders } from 'evotor-partner/testing'
import { type RunningServer, type StartServerOptions, startServer } from '../../src/main.js'
import { createTempDir, type TempDir } from '../helpers.js'
import { createTestDatabase } from '../support/postgres.js'

/**
 * The database the e2e suite runs on: `E2E_DATABASE=postgres` (the `koa-app-postgres` vitest
 * project) gives every test folder its own fresh PostgreSQL database; otherwise SQLite in the folder.
 */
export const DB_KIND: 'sqlite' | 'postgres' = process.env.E2E_DATABASE === 'postgres' ? 'postgres' : 'sqlite'

const databases = new Map<string, Promise<string>>()

/** The `DATABASE_*` variables of a test folder: its PostgreSQL database or its SQLite file. */
export async function databaseEnv(dir: TempDir): Promise<Record<string, string>> {
  if (DB_KIND === 'sqlite') return { DATABASE_PATH: dir.file('app.sqlite') }
  let url = databases.get(dir.path)
  if (url === undefined) {
    url = createTestDatabase()
    databases.set(dir.path, url)
  }
  return { DATABASE_URL: await url }
}

export const APP_TOKEN = 'e2e-app-token-0f1e2d3c4b5a69788796a5b4c3d2e1f0'
export const USER_TOKEN_SECRET = 'e2e-user-token-secret-that-is-long-enough-0123456789'
export const JSON_TYPE = 'application/json;charset=UTF-8'

/** A started app on 127.0.0.1:0 over a temporary database, with its logs and handler counts. */
export interface TestApp {
  readonly server: RunningServer
  readonly url: string
  /** Every JSON log line, parsed. */
  readonly logs: Array<Record<string, unknown>>
  /** Handler runs by route (from the `beforeHandler` hook). */
  readonly handled: Map<RouteName, number>
  close(): Promise<void>
}

export interface TestAppOptions extends Omit<StartServerOptions, 'env' | 'port' | 'logSink' | 'print'> {
  proxyVersion?: 1 | 2
  env?: Record<string, string>
}

export function createTestDir(): TempDir {
  return createTempDir()
}

export async function startTestApp(dir: TempDir, options: TestAppOptions = {}): Promise<TestApp> {
  const logs: Array<Record<string, unknown>> = []
  const handled = new Map<RouteName, number>()
  const { proxyVersion = 2, env, hooks, ...rest } = options
  const server = await startServer({
    env: {
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      ...(await databaseEnv(dir)),
      EVOTOR_APP_TOKEN: APP_TOKEN,
      USER_TOKEN_SECRET,
      EVOTOR_PROXY_VERSION: String(proxyVersion),
      LOG_LEVEL: 'info',
      ...env,
    },
    port: 0,
    logSink: (line) => logs.push(JSON.parse(line) as Record<string, unknown>),
    print: () => {},
    holdMs: 2_000,
    ...rest,
    hooks: {
      async beforeHandler(route) {
        handled.set(route, (handled.get(route) ?? 0) + 1)
        await hooks?.beforeHandler?.(route)
      },
      ...(hooks?.afterWrite === undefined ? {} : { afterWrite: hooks.afterWrite }),
    },
  })
  const close = async (): Promise<void> => {
    await server.close()
    assertNoSecretIn(logs)
  }
  return { server, url: server.url, logs, handled, close }
}

/**
 * Secrets the suite has seen: the app credential, the token secret, the demo password and every
 * token the service handed out (read from the answers, see {@link call}). Every test app's
 * pino output is checked against them when it closes, so each e2e test checks its own logs.
 */
const SECRETS = new Set<string>([APP_TOKEN, USER_TOKEN_SECRET, 'demo-password'])

/** Fails when a log line holds one of {@link SECRETS}. */
export function assertNoSecretIn(logs: ReadonlyArray<Record<string, unknown>>): void {
  const text = JSON.stringify(logs)
  for (const secret of SECRETS) {
    if (secret.length >= 8 && text.includes(secret)) {
      throw new Error(`a secret (${secret.slice(0, 4)}…) is in the app's log output`)
    }
  }
}

export interface Answer {
  status: number
  headers: Headers
  text: string
  json: unknown
}

async function answer(response: Response): Promise<Answer> {
  const text = await response.text()
  let json: unknown
  try {
    json = text === '' ? undefined : JSON.parse(text)
  } catch {
    json = undefined
  }
  const token = (json as { token?: unknown } | undefined)?.token
  if (typeof token === 'string') SECRETS.add(token)
  return { status: response.status, headers: response.headers, text, json }
}

/** A webhook call as the Evotor cloud makes it (JSON body, `Authorization`). */
export async function call(
  url: string,
  method: string,
  path: string,
  options: { auth?: string | undefined; body?: unknown; raw?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { accept: JSON_TYPE }
  if (options.auth !== undefined) headers.authorization = options.auth
  let body: string | undefined
  if (options.raw !== undefined) body = options.raw
  else if (options.body !== undefined) body = JSON.stringify(options.body)
  if (body !== undefined) headers['content-type'] = JSON_TYPE
  return answer(await fetch(`${url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) }))
}

export const appAuth = `Bearer ${APP_TOKEN}`
export const bearer = (token: string): string => `Bearer ${token}`

export interface Terminal {
  userId: string
  storeUuid: string
  deviceUuid: string
  token?: string | undefined
}

/** The inner answer of a proxied call: ver. 2 as is, ver. 1 unwrapped from `{status, body}`. */
export interface ProxiedAnswer {
  status: number
  json: unknown
  outer: Answer
}

/** A terminal request as the cloud proxy forwards it (`X-Evotor-*`, the user token). */
export async function proxied(
  url: string,
  path: string,
  terminal: Terminal,
  proxyVersion: 1 | 2 = 2,
  init: { method?: string; body?: unknown } = {},
): Promise<ProxiedAnswer> {
  const headers = buildProxyHeaders({
    userId: terminal.userId,
    storeUuid: terminal.storeUuid,
    deviceUuid: terminal.deviceUuid,
    ...(terminal.token === undefined ? {} : { token: terminal.token }),
  })
  if (init.body !== undefined) headers['content-type'] = 'application/json'
  const outer = await answer(
    await fetch(`${url}${path}`, {
      method: init.method ?? 'GET',
      headers,
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    }),
  )
  if (proxyVersion === 2) return { status: outer.status, json: outer.json, outer }
  if (outer.status !== 200) throw new Error(`ver. 1: expected HTTP 200, got ${outer.status}`)
  const envelope = outer.json as { status: number; body: unknown }
  if (typeof envelope?.status !== 'number' || typeof envelope.body !== 'string') {
    throw new Error(`ver. 1: expected {status, body: string}, got ${outer.text}`)
  }
  return { status: envelope.status, json: JSON.parse(envelope.body), outer }
}

/** The data of a tRPC answer. */
export function trpcData<T = Record<string, unknown>>(answer: ProxiedAnswer): T {
  return (answer.json as { result: { data: T } }).result.data
}

/** `?input=` of a tRPC GET query. */
export function input(value: unknown): string {
  return `?input=${encodeURIComponent(JSON.stringify(value))}`
}

const TABLES = [
  'settings',
  'partner_accounts',
  'user_tokens',
  'evotor_tokens',
  'subscription_events',
  'subscriptions',
  'installation_events',
  'installations',
  'stores',
  'devices',
  'employees',
  'products',
  'product_codes',
  'documents',
  'receipts',
  'idempotency_keys',
  'subscription_sequences',
] as const

export type Table = (typeof TABLES)[number]

/** Row counts of every table. */
export async function rowCounts(server: RunningServer): Promise<Record<Table, number>> {
  const out = {} as Record<Table, number>
  for (const table of TABLES) {
    const row = await server.data.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow()
    out[table] = Number(row.n)
  }
  return out
}

/** A hash of every row of every table: equal before and after means nothing was written. */
export async function snapshot(server: RunningServer, except: readonly Table[] = []): Promise<string> {
  const hash = createHash('sha256')
  for (const table of TABLES) {
    if (except.includes(table)) continue
    hash.update(table)
    // Sorted here, not by rowid: the same on both databases.
    const rows = (await server.data.db.selectFrom(table).selectAll().execute()).map((r) => JSON.stringify(r))
    hash.update(JSON.stringify(rows.sort()))
  }
  return hash.digest('hex')
}

/** The first Evotor error code of an answer. */
export function errorCode(answer: { json: unknown }): number | undefined {
  return (answer.json as { errors?: Array<{ code?: number }> } | undefined)?.errors?.[0]?.code
}
