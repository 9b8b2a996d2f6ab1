import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pathToFileURL } from 'node:url'
import { createApp } from './app.js'
import { loadCloudConfig } from './cloud-config.js'
import { type CloudSync, createCloudSync } from './cloud-sync.js'
import { type Config, ConfigError, loadConfig, type ResolvedSecrets, resolveSecrets } from './config.js'
import { type AppDb, type OpenAppDbOptions, openAppDb } from './database/index.js'
import { DEMO_ACCOUNT, seedDemoAccount } from './dev-seed.js'
import { createLogger, type Logger } from './logger.js'
import { verifyPassword } from './passwords.js'
import { createRepositories, type Repositories } from './repositories/index.js'
import { createSharedState, type SharedState } from './shared-state.js'
import type { AppHooks } from './webhooks.js'

/** Options of {@link startServer}; everything but `env` is for tests and embedding. */
export interface StartServerOptions {
  /** The environment to configure from (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>>
  /** Overrides `PORT`; `0` picks a free port. */
  port?: number
  /** Receives each JSON log line (default: stdout). */
  logSink?: (line: string) => void
  /** Receives the human-readable start-up banner (default: stdout). */
  print?: (line: string) => void
  /** How long a shutdown waits for in-flight requests before cutting them (default 10 s). */
  shutdownTimeoutMs?: number
  /**
   * How much longer a shutdown waits, after cutting the connections, for the handlers that are
   * still running before it closes the database (default 5 s).
   */
  shutdownGraceMs?: number
  /** How long an early subscription event waits for its predecessor (default 5 s). */
  holdMs?: number
  hooks?: AppHooks
  /** Told about every database query that returns rows (instrumentation for tests). */
  queryObserver?: OpenAppDbOptions['queryObserver']
  now?: () => Date
  /** Started with `start()` when given (default: started when `EVOTOR_CLOUD_URL` is set). */
  startCloudSync?: boolean
}

/** A started service. */
export interface RunningServer {
  /** `http://host:port`. */
  readonly url: string
  readonly port: number
  readonly config: Config
  /** The database (SQLite or PostgreSQL). */
  readonly data: AppDb
  /** The same as {@link RunningServer.data} (kept for existing callers). */
  readonly db: AppDb
  readonly repos: Repositories
  readonly logger: Logger
  /** The Evotor cloud sync; `undefined` when `EVOTOR_CLOUD_URL` is unset. */
  readonly cloud: CloudSync | undefined
  /**
   * Graceful shutdown: stops accepting connections, lets in-flight requests finish (cut after
   * `shutdownTimeoutMs`), waits up to `shutdownGraceMs` more for handlers still running on the
   * cut connections, then closes the database. Safe to call twice.
   */
  close(): Promise<void>
}

/**
 * Whether the demo partner account (`demo` / `demo-password`) may be seeded: only in development
 * mode (`NODE_ENV` unset or `development`) with a GENERATED app credential. As soon as a real
 * app credential is configured, anyone who installs the app could log in with the well-known
 * demo password through `user/verify`, so nothing is seeded then.
 *
 * @example
 * ```ts
 * if (shouldSeedDemoAccount(config, secrets)) await seedDemoAccount(repos.accounts)
 * ```
 */
export function shouldSeedDemoAccount(
  config: Pick<Config, 'nodeEnv' | 'production'>,
  secrets: Pick<ResolvedSecrets, 'development'>,
): boolean {
  return !config.production && config.nodeEnv === 'development' && secrets.development.appToken !== undefined
}

async function hasDemoPassword(repos: Repositories): Promise<boolean> {
  const account = await repos.accounts.findByLogin(DEMO_ACCOUNT.login)
  return account !== undefined && (await verifyPassword(DEMO_ACCOUNT.password, account.passwordHash))
}

/**
 * Loads the configuration, opens and migrates the database, fills in development secrets,
 * seeds the demo account (see {@link shouldSeedDemoAccount}) and starts listening. Throws
 * {@link ConfigError} on a bad environment.
 *
 * @example
 * ```ts
 * const server = await startServer({ env: { DATABASE_PATH: '/tmp/app.sqlite' }, port: 0 })
 * await fetch(`${server.url}/health`)
 * await server.close()
 * ```
 */
export async function startServer(options: StartServerOptions = {}): Promise<RunningServer> {
  const config = loadConfig(options.env ?? process.env)
  const logger = createLogger({
    level: config.logLevel,
    ...(options.logSink === undefined ? {} : { sink: options.logSink }),
    // Readable lines in development (with pino-pretty installed), JSON lines in production.
    pretty: options.logSink === undefined && config.nodeEnv === 'development',
  })
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`))
  const data = await openAppDb({
    url: config.databaseUrl,
    path: config.databasePath,
    ...(options.queryObserver === undefined ? {} : { queryObserver: options.queryObserver }),
  })
  let partner: ReturnType<typeof createApp>
  let repos: Repositories
  let cloud: CloudSync | undefined
  let shared: SharedState | undefined
  try {
    repos = createRepositories({ data })
    const secrets = await resolveSecrets(config, repos.settings)
    const seedDemo = shouldSeedDemoAccount(config, secrets)
    if (seedDemo) await seedDemoAccount(repos.accounts)
    else if (await hasDemoPassword(repos)) {
      // Seeded by an earlier development run on this database: say so, loudly.
      logger.warn(
        {
          login: DEMO_ACCOUNT.login,
        },
        'the demo account still has the well-known demo password: delete it or change its password',
      )
    }
    shared = createSharedState({ data, databaseUrl: config.databaseUrl, redisUrl: config.redisUrl, logger })
    const cloudConfig = loadCloudConfig(options.env ?? process.env)
    cloud =
      cloudConfig === undefined
        ? undefined
        : createCloudSync({
            data,
            repos,
            logger,
            config: cloudConfig,
            ...(options.now === undefined ? {} : { now: options.now }),
          })
    partner = createApp({
      cloud,
      shared,
      data,
      repos,
      appCredential: secrets.appCredential,
      userTokenSecrets: secrets.userTokenSecrets,
      proxyVersion: config.proxyVersion,
      logger,
      ...(options.holdMs === undefined ? {} : { holdMs: options.holdMs }),
      ...(config.webhookLeaseMs === undefined ? {} : { leaseMs: config.webhookLeaseMs }),
      ...(options.hooks === undefined ? {} : { hooks: options.hooks }),
      ...(options.now === undefined ? {} : { now: options.now }),
    })
    if (!config.production) {
      print('Evotor partner service: development mode')
      if (secrets.development.appToken !== undefined) {
        print(
          `  app credential (developer portal, curl): Authorization: Bearer ${secrets.development.appToken}`,
        )
      }
      if (seedDemo) {
        print(`  demo partner account for user/verify: ${DEMO_ACCOUNT.login} / ${DEMO_ACCOUNT.password}`)
      } else {
        print(
          '  demo partner account: not created (an app credential is configured); add accounts with add-account',
        )
      }
      print(`  database: ${data.location}`)
    }
  } catch (error) {
    await shared?.close()
    await data.close()
    throw error
  }

  // Revocations announced by the other instances are heard before the first request (bounded).
  let waited: NodeJS.Timeout | undefined
  await Promise.race([
    shared?.ready(),
    new Promise((resolve) => {
      waited = setTimeout(resolve, 5000)
    }),
  ])
  clearTimeout(waited)

  // Bodies on a clock for every route, /trpc included (the webhook routes have their own 5 s
  // deadline): a request not fully received in 15 s is answered 408 and closed (Node's default is 300 s).
  const server = createServer(
    { requestTimeout: 15_000, headersTimeout: 10_000, connectionsCheckingInterval: 1000 },
    partner.app.callback(),
  )
  const active = new Set<ServerResponse>()
  let stopping = false
  server.on('request', (_request, response: ServerResponse) => {
    if (stopping) response.setHeader('connection', 'close')
    active.add(response)
    response.on('close', () => active.delete(response))
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? config.port, config.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  const host = config.host.includes(':') ? `[${config.host}]` : config.host
  const url = `http://${host}:${port}`
  logger.info({ url, proxyVersion: config.proxyVersion, nodeEnv: config.nodeEnv }, 'listening')
  if (!config.production) print(`  listening on ${url}`)

  const timeoutMs = options.shutdownTimeoutMs ?? 10_000
  const graceMs = options.shutdownGraceMs ?? 5_000
  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      stopping = true
      logger.info({ inFlight: active.size }, 'shutting down')
      // Finished responses must not keep their keep-alive sockets open.
      for (const response of active) if (!response.headersSent) response.setHeader('connection', 'close')
      const force = setTimeout(() => {
        logger.warn({ inFlight: active.size }, 'shutdown timeout: cutting open connections')
        server.closeAllConnections()
      }, timeoutMs)
      force.unref()
      const started = Date.now()
      server.close(async () => {
        clearTimeout(force)
        // Cut connections do not stop their handlers: closing the database under them would
        // fail their writes, so wait for them too (bounded).
        const left = Math.max(0, started + timeoutMs + graceMs - Date.now())
        if (!(await partner.settled(left))) {
          logger.warn(
            {
              inFlight: partner.inFlight,
            },
            'shutdown: handlers still running, closing the database anyway',
          )
        }
        await cloud?.stop()
        partner.close()
        await shared?.close()
        await data.close()
        logger.info('stopped')
        resolve()
      })
      server.closeIdleConnections()
    })
    return closing
  }

  if (options.startCloudSync !== false) cloud?.start()
  return { url, port, config, data, db: data, repos, logger, cloud, close }
}

/**
 * The command-line entry (`npm start`): starts the server, exits 1 with a
 * clear message on a bad configuration, shuts down gracefully on SIGTERM/SIGINT.
 *
 * @example
 * ```ts
 * await main() // PORT=3000 HOST=127.0.0.1 …
 * ```
 */
export async function main(): Promise<void> {
  let server: RunningServer
  try {
    server = await startServer()
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`)
      process.exit(1)
    }
    throw error
  }
  // The defaults of startServer: 10 s to finish requests, 5 s more for cut handlers.
  const timeoutMs = 10_000 + 5_000
  const stop = (signal: string): void => {
    server.logger.info({ signal }, 'signal received')
    // A second signal, or a shutdown that hangs, ends the process anyway.
    setTimeout(() => process.exit(1), timeoutMs + 2_000).unref()
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGTERM', () => stop('SIGTERM'))
  process.once('SIGINT', () => stop('SIGINT'))
}

const invokedPath = process.argv[1]
if (invokedPath !== undefined && import.meta.url === pathToFileURL(invokedPath).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`failed to start: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  })
}
