import { performance } from 'node:perf_hooks'
import Router from '@koa/router'
import { fetchRequestHandler } from '@trpc/server/adapters/fetch'
import { createEvotorProxy, type EvotorWebhooks } from 'evotor-partner'
import { evotorProxy, evotorWebhooks } from 'evotor-partner/koa'
import { createEvotorTrpcContext } from 'evotor-partner/trpc'
import Koa, { type Context, type Next } from 'koa'
import { koaBody } from 'koa-body'
import { createPartnerTokens, type PartnerTokens } from './auth.js'
import type { CloudSync } from './cloud-sync.js'
import type { BasicCredential } from './config.js'
import type { AppDb } from './database/index.js'
import type { Logger } from './logger.js'
import { createDatabaseStores } from './pg-stores.js'
import type { Repositories } from './repositories/index.js'
import { createDatabaseRevocations } from './revocations.js'
import type { SharedState } from './shared-state.js'
import { createSqliteIdempotencyStore, createSqliteSequenceStore, retryingStores } from './sqlite-stores.js'
import { appRouter } from './trpc.js'
import type { BusyRetryOptions } from './util/busy.js'
import { type AppHooks, createAppWebhooks } from './webhooks.js'

/** What {@link createApp} needs. */
export interface AppDeps {
  /** The open, migrated database (SQLite or PostgreSQL). */
  data: AppDb
  repos: Repositories
  /** The partner app credential(s) typed into the developer portal. */
  appCredential: { bearer: readonly string[]; basic: readonly BasicCredential[] }
  /** User-token secrets: the first signs, all verify. */
  userTokenSecrets: readonly [string, ...string[]]
  /** Proxy version configured on the portal (protocol §7); 1 wraps every `/trpc` answer. */
  proxyVersion: 1 | 2
  logger: Logger
  /** How long an early subscription event waits for its predecessor (default 5000 ms). */
  holdMs?: number
  /** How long a delivery's claim lasts before another instance may take it over (default 60 s). */
  leaseMs?: number
  /** Body limit of the tRPC route in bytes (default 1 MiB; webhooks use the library's limit). */
  trpcBodyLimit?: number
  hooks?: AppHooks
  /** The Evotor cloud sync (cloud-sync.ts), when `EVOTOR_CLOUD_URL` is set. */
  cloud?: CloudSync | undefined
  /**
   * What the instances share (see `createSharedState`): Redis stores when `REDIS_URL` is set,
   * and the revocation announcements. Without it: the database's stores, nothing announced.
   */
  shared?: SharedState | undefined
  /** Clock of `store.summary`. */
  now?: () => Date
  /**
   * How writes retry while another process holds the database lock before answering 503 with
   * `Retry-After` (default: 1.5 s, 5 s). Each try blocks for at most the `busy_timeout`.
   */
  busyRetry?: BusyRetryOptions
}

/** The Koa app and what it is made of. */
export interface PartnerApp {
  readonly app: Koa
  readonly webhooks: EvotorWebhooks
  readonly tokens: PartnerTokens
  /** Requests whose middleware chain is still running (also after their connection was cut). */
  readonly inFlight: number
  /**
   * Resolves `true` once no request is in flight, or `false` after `timeoutMs` with requests
   * still running. Await it before closing the database.
   */
  settled(timeoutMs: number): Promise<boolean>
  /** Drops in-memory caches; the caller closes the server and the database. */
  close(): void
}

function inFlightTracker() {
  const pending = new Set<Promise<void>>()
  return {
    pending,
    async middleware(_ctx: Context, next: Next): Promise<void> {
      const done = next()
      pending.add(done)
      try {
        await done
      } finally {
        pending.delete(done)
      }
    },
    async settled(timeoutMs: number): Promise<boolean> {
      const deadline = Date.now() + timeoutMs
      let timer: NodeJS.Timeout | undefined
      try {
        while (pending.size > 0) {
          const left = deadline - Date.now()
          if (left <= 0) return false
          const timedOut = new Promise<'timeout'>((resolve) => {
            timer = setTimeout(() => resolve('timeout'), left)
          })
          if ((await Promise.race([Promise.allSettled([...pending]), timedOut])) === 'timeout') {
            return pending.size === 0
          }
          clearTimeout(timer)
        }
        return true
      } finally {
        clearTimeout(timer)
      }
    },
  }
}

function requestLog(logger: Logger) {
  return async function logRequest(ctx: Context, next: Next): Promise<void> {
    const started = performance.now()
    let status: number | undefined
    try {
      await next()
      status = ctx.status
    } catch (error) {
      status = (error as { status?: number }).status ?? 500
      throw error
    } finally {
      // Method, path, status and time only: never headers, query strings or bodies.
      logger.info(
        {
          method: ctx.method,
          path: ctx.path,
          status,
          ms: Math.round((performance.now() - started) * 10) / 10,
        },
        'request',
      )
    }
  }
}

/**
 * An error of reading a request body as the client's 4xx, or `undefined`: a body that does not
 * decompress (bad `Content-Encoding`) is 400, and koa-body's own 4xx (413, 415) keep their status.
 */
function clientBodyError(error: unknown): { status: number; message: string } | undefined {
  const e = error as { status?: unknown; message?: unknown; code?: unknown } | null
  if (typeof e !== 'object' || e === null) return undefined
  if (typeof e.code === 'string' && /^(?:Z_(?:DATA|BUF|STREAM)_ERROR|ERR__ERROR_FORMAT_\w+)$/.test(e.code)) {
    return { status: 400, message: 'the body does not match its Content-Encoding' }
  }
  return typeof e.status === 'number' && e.status >= 400 && e.status < 500
    ? { status: e.status, message: String(e.message) }
    : undefined
}

/**
 * Between the proxy and the body reader: a body error goes up as an http-errors style 4xx with its
 * message shown, which the proxy answers itself (inside the `{status, body}` envelope in ver. 1,
 * where it would otherwise be an internal 500), and {@link errorsAsJson} in ver. 2.
 */
function bodyErrorsAsClientErrors() {
  return async function bodyErrors(_ctx: Context, next: Next): Promise<void> {
    try {
      await next()
    } catch (error) {
      const client = clientBodyError(error)
      if (client === undefined) throw error
      throw Object.assign(new Error(client.message), { status: client.status, expose: true })
    }
  }
}

function errorsAsJson(logger: Logger) {
  return async function jsonErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next()
    } catch (error) {
      const e = error as { status?: unknown; expose?: unknown; message?: unknown }
      const client = clientBodyError(error)
      const status =
        client?.status ?? (typeof e.status === 'number' && e.status >= 400 && e.status < 600 ? e.status : 500)
      if (status >= 500) logger.error({ path: ctx.path, error }, 'request failed')
      ctx.status = status
      ctx.body = {
        error: client?.message ?? (e.expose === true ? String(e.message) : 'internal error'),
      }
    }
  }
}

function trpcHandler(repos: Repositories, now: () => Date, logger: Logger, cloud: CloudSync | undefined) {
  return async function serveTrpc(ctx: Context): Promise<void> {
    const headers = new Headers()
    for (const [name, value] of Object.entries(ctx.headers)) {
      // The token stays here; tRPC needs the content headers only.
      if (
        value === undefined ||
        /^(authorization|host|content-length|transfer-encoding|connection|expect)$/.test(name)
      )
        continue
      for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item)
    }
    const body = typeof ctx.request.body === 'string' ? ctx.request.body : undefined
    const method = ctx.method
    const request = new Request(new URL(ctx.originalUrl, 'http://partner.invalid'), {
      method,
      headers,
      ...(method === 'GET' || method === 'HEAD' || body === undefined ? {} : { body }),
    })
    const response = await fetchRequestHandler({
      endpoint: '/trpc',
      req: request,
      router: appRouter,
      // The terminal JS SDK has get/post only: queries may come as POST too (protocol §2.2).
      allowMethodOverride: true,
      // One request may not run more than 10 procedures: a batch of 100 summaries is a denial of service.
      maxBatchSize: 10,
      createContext: () => ({ ...createEvotorTrpcContext({ req: ctx.req }), repos, now, cloud }),
      onError: ({ error, path }) => {
        if (error.code === 'INTERNAL_SERVER_ERROR') logger.error({ path, error }, 'trpc procedure failed')
      },
    })
    // Written through Koa (not to ctx.res) so that the proxy middleware can wrap it for ver. 1.
    ctx.status = response.status
    response.headers.forEach((value, name) => {
      if (name !== 'content-length') ctx.set(name, value)
    })
    ctx.body = await response.text()
  }
}

/**
 * Builds the partner service: the Evotor webhooks (mounted before any body parser), `/health`,
 * and the tRPC API under `/trpc` behind the proxy middleware.
 *
 * @example
 * ```ts
 * const { app } = createApp({ data, repos, appCredential, userTokenSecrets, proxyVersion: 2, logger })
 * app.listen(3000)
 * ```
 */
export function createApp(deps: AppDeps): PartnerApp {
  const { repos, logger } = deps
  const now = deps.now ?? (() => new Date())
  const busyRetry = deps.busyRetry ?? {}
  const { shared } = deps
  // Revocation state in this database, through the library's RevocationStore interface.
  const revocations = createDatabaseRevocations({ data: deps.data, shared, busyRetry, now })
  const tokens = createPartnerTokens({
    secrets: deps.userTokenSecrets,
    userTokens: repos.userTokens,
    busyRetry,
    revocations,
  })
  const { sqlite } = deps.data
  const stores =
    deps.shared?.stores ??
    (sqlite === undefined
      ? createDatabaseStores({ data: deps.data, busyRetry })
      : retryingStores(
          {
            idempotency: createSqliteIdempotencyStore({ db: sqlite }),
            sequences: createSqliteSequenceStore({ db: sqlite }),
          },
          busyRetry,
        ))
  const webhooks = createAppWebhooks({
    repos,
    tokens,
    appCredential: { bearer: [...deps.appCredential.bearer], basic: [...deps.appCredential.basic] },
    idempotency: stores.idempotency,
    // The database's own stores (not Redis): receipts complete their claim in their transaction.
    claimsInDatabase: deps.shared?.stores === undefined,
    sequences: stores.sequences,
    sequenceSignal: shared?.sequenceSignal,
    busyRetry,
    logger,
    ...(deps.holdMs === undefined ? {} : { holdMs: deps.holdMs }),
    ...(deps.leaseMs === undefined ? {} : { leaseMs: deps.leaseMs }),
    ...(deps.hooks === undefined ? {} : { hooks: deps.hooks }),
    cloud: deps.cloud,
  })
  const proxy = createEvotorProxy({
    userTokens: tokens.verifier,
    proxyVersion: deps.proxyVersion,
    bodyEncoding: 'string',
    // Without it a failing token lookup (e.g. the database) would be a silent 500.
    logger,
  })

  const router = new Router()
  // No write and no table read on this path: it answers at once even while another process
  // holds the database's write lock.
  router.get('/health', (ctx) => {
    if (deps.data.open) ctx.body = { status: 'ok' }
    else {
      ctx.status = 503
      ctx.body = { status: 'database closed' }
    }
  })
  router.all(
    '/trpc/{*procedure}',
    evotorProxy(proxy),
    bodyErrorsAsClientErrors(),
    // Read as text with a limit; tRPC parses it and answers a malformed body in its own format.
    koaBody({
      json: false,
      urlencoded: false,
      multipart: false,
      text: true,
      textTypes: ['*/*'],
      textLimit: deps.trpcBodyLimit ?? 1024 * 1024,
    }),
    trpcHandler(repos, now, logger, deps.cloud),
  )

  const tracker = inFlightTracker()
  const app = new Koa()
  app.use(tracker.middleware)
  app.use(requestLog(logger))
  app.use(errorsAsJson(logger))
  app.use(evotorWebhooks(webhooks))
  app.use(router.routes())
  app.use(router.allowedMethods())
  app.use(function notFound(ctx: Context) {
    // Protocol §11 A27: a 404 is `{}` in JSON.
    ctx.status = 404
    ctx.body = {}
  })
  app.on('error', (error: unknown) => logger.error({ error }, 'unhandled error'))

  return {
    app,
    webhooks,
    tokens,
    get inFlight() {
      return tracker.pending.size
    },
    settled: (timeoutMs) => tracker.settled(timeoutMs),
    close() {
      tokens.verifier.clear()
    },
  }
}
