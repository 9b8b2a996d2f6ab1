// A child process serving one HTTP variant on 127.0.0.1 (forked by bench/http.ts, so that the
// server and autocannon never share an event loop). argv[2] is the variant name.
import type { RequestListener } from 'node:http'
import type { AddressInfo } from 'node:net'
import { getHeapCodeStatistics } from 'node:v8'
import { getRequestListener } from '@hono/node-server'
import Router from '@koa/router'
import express from 'express'
import { Hono } from 'hono'
import jwt from 'jsonwebtoken'
import Koa, { type Context, type Next } from 'koa'
import type { EvotorEnv as HonoEnv } from '../src/adapters/hono.js'
import {
  APP_BEARER,
  JWT_SECRET,
  loadExpressAdapter,
  loadFetchAdapter,
  loadHonoAdapter,
  loadKoaAdapter,
  loadLib,
  RECEIPTS_PATH,
  ROUTE_PATH,
  routeBody,
  TOKEN_SECRET,
} from './fixtures.js'
import { frameworkOf, type ServerMessage, VARIANTS, type Variant } from './variants.js'

/**
 * What a partner would write by hand instead of `evotorProxy`: verify an HS256 JWT with
 * `jsonwebtoken` on every request (no cache), bind its `sub` to `X-Evotor-User-Id`, read the
 * store and device headers. Fewer checks than the library (no repeated-header, length or
 * control-character checks, no revocation), so it is a lower bound on what a careful one costs.
 */
function handWrittenJwt(ctx: Context, next: Next): Promise<void> {
  const deny = (): Promise<void> => {
    ctx.status = 401
    ctx.body = { errors: [{ code: 1002, reason: 'Invalid user token', subject: 'Authorization' }] }
    return Promise.resolve()
  }
  const authorization = ctx.get('authorization')
  if (!authorization.startsWith('Bearer ')) return deny()
  let payload: string | jwt.JwtPayload
  try {
    payload = jwt.verify(authorization.slice(7), JWT_SECRET, { algorithms: ['HS256'] })
  } catch {
    return deny()
  }
  const userId = ctx.get('x-evotor-user-id')
  if (typeof payload === 'string' || payload.sub === undefined || payload.sub !== userId) return deny()
  ctx.state.evotor = {
    userId,
    storeUuid: ctx.get('x-evotor-store-uuid') || undefined,
    deviceUuid: ctx.get('x-evotor-device-uuid') || undefined,
    token: { userId },
  }
  return next()
}

/** The body limit of the bare POST route: the webhook middleware's default (10 MB). */
const BARE_POST_LIMIT = 10 * 1024 * 1024

/**
 * A hand-written body reader, as a bare route (or koa-bodyparser) would do it: refuses a declared
 * or streamed size over `limit` with 413, else resolves the bytes once the stream ends.
 */
function readBody(ctx: Context, limit: number): Promise<Buffer | undefined> {
  const req = ctx.req
  if (Number(req.headers['content-length']) > limit) return Promise.resolve(undefined)
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        req.removeAllListeners('data')
        req.resume()
        resolve(undefined)
      } else chunks.push(chunk)
    })
    req.once('end', () => resolve(Buffer.concat(chunks, size)))
    req.once('error', reject)
  })
}

/** `koa-bare-post`: reads the POST body with a limit, `JSON.parse`s it, answers 200 with no body. */
async function barePost(ctx: Context): Promise<void> {
  const bytes = await readBody(ctx, BARE_POST_LIMIT)
  if (bytes === undefined) {
    ctx.status = 413
    ctx.body = { errors: [{ code: 2001, reason: 'syntax', subject: 'body' }] }
    return
  }
  try {
    JSON.parse(bytes.toString('utf8'))
  } catch {
    ctx.status = 400
    ctx.body = { errors: [{ code: 2001, reason: 'syntax', subject: 'body' }] }
    return
  }
  ctx.body = ''
}

async function koaApp(variant: Variant): Promise<Koa> {
  const lib = await loadLib()
  const adapter = await loadKoaAdapter()
  const app = new Koa()
  const userTokens = lib.createUserTokens({ secret: TOKEN_SECRET })
  if (variant.startsWith('webhook-')) {
    const webhooks = lib.createEvotorWebhooks({
      appCredential: { bearer: [APP_BEARER] },
      userTokens,
      handlers: {
        stores: async () => {},
        receipts: async () => {},
      },
    })
    app.use(adapter.evotorWebhooks(webhooks))
    return app
  }
  if (variant === 'koa-proxy') app.use(adapter.evotorProxy({ userTokens }))
  if (variant === 'koa-proxy-v1') app.use(adapter.evotorProxy({ userTokens, proxyVersion: 1 }))
  if (variant === 'koa-jwt') app.use(handWrittenJwt)
  if (variant === 'koa-noop') app.use((_ctx, next) => next())
  const router = new Router()
  if (variant === 'koa-bare-post') router.post(RECEIPTS_PATH, barePost)
  router.get(ROUTE_PATH, (ctx) => {
    const evotor = ctx.state.evotor as { userId: string; storeUuid: string | undefined } | undefined
    // The bare route answers the same bytes, with the ids read unverified from the headers.
    ctx.body =
      evotor === undefined
        ? routeBody(
            ctx.req.headers['x-evotor-user-id'] as string,
            ctx.req.headers['x-evotor-store-uuid'] as string,
          )
        : routeBody(evotor.userId, evotor.storeUuid)
  })
  app.use(router.routes())
  return app
}

async function expressApp(variant: Variant): Promise<express.Express> {
  const lib = await loadLib()
  const adapter = await loadExpressAdapter()
  const app = express()
  app.disable('x-powered-by')
  app.disable('etag')
  const userTokens = lib.createUserTokens({ secret: TOKEN_SECRET })
  if (variant === 'express-noop') app.use((_req, _res, next) => next())
  if (variant === 'express-proxy') app.use(adapter.evotorProxy({ userTokens }))
  if (variant === 'express-proxy-v1') app.use(adapter.evotorProxy({ userTokens, proxyVersion: 1 }))
  if (variant === 'express-proxy-route') {
    // The proxy on the route itself (`withEvotorProxy`): no middleware layer of its own.
    const route = adapter.withEvotorProxy({ userTokens }, (req, res) => {
      res.json(routeBody(req.evotor.userId, req.evotor.storeUuid))
    })
    app.get(ROUTE_PATH, route)
  }
  app.get(ROUTE_PATH, (req, res) => {
    // The bare route answers the same bytes, with the ids read unverified from the headers.
    if (req.evotor === undefined) {
      res.json(
        routeBody(req.headers['x-evotor-user-id'] as string, req.headers['x-evotor-store-uuid'] as string),
      )
    } else res.json(routeBody(req.evotor.userId, req.evotor.storeUuid))
  })
  app.use(adapter.evotorErrorHandler())
  return app
}

/**
 * Hono on Node through @hono/node-server: `hono-proxy*` behind `evotor-partner/hono`'s `evotorProxy`
 * middleware (the route answers with `c.json`, as the bare one does), `hono-fetch-proxy*` through the
 * Fetch adapter's `withEvotorProxy` (answering `Response.json`).
 */
async function honoListener(variant: Variant): Promise<RequestListener> {
  const lib = await loadLib()
  const adapter = await loadFetchAdapter()
  const hono = await loadHonoAdapter()
  const app = new Hono<HonoEnv>()
  if (variant === 'hono-noop') app.use(ROUTE_PATH, (_c, next) => next())
  if (variant === 'hono-bare' || variant === 'hono-noop') {
    // The same bytes as the proxied route, the ids read unverified from Node's header object.
    app.get(ROUTE_PATH, (c) => {
      const headers = (c.env as { incoming: { headers: Record<string, string> } }).incoming.headers
      return c.json(routeBody(headers['x-evotor-user-id'], headers['x-evotor-store-uuid']) as object)
    })
  } else if (variant === 'hono-proxy' || variant === 'hono-proxy-v1') {
    const userTokens = lib.createUserTokens({ secret: TOKEN_SECRET })
    app.use(ROUTE_PATH, hono.evotorProxy({ userTokens, proxyVersion: variant === 'hono-proxy-v1' ? 1 : 2 }))
    // `c.get`: `c.var` copies every variable into a new object on each read.
    app.get(ROUTE_PATH, (c) => {
      const evotor = c.get('evotor')
      return c.json(routeBody(evotor.userId, evotor.storeUuid) as object)
    })
  } else if (variant === 'hono-proxy-route') {
    // The proxy on the route itself: the path's only handler, which Hono runs without composing.
    const userTokens = lib.createUserTokens({ secret: TOKEN_SECRET })
    app.get(
      ROUTE_PATH,
      hono.withEvotorProxy({ userTokens }, (c) => {
        const evotor = c.get('evotor')
        return c.json(routeBody(evotor.userId, evotor.storeUuid) as object)
      }),
    )
  } else {
    const userTokens = lib.createUserTokens({ secret: TOKEN_SECRET })
    const proxyVersion = variant === 'hono-fetch-proxy-v1' ? 1 : 2
    // `new Response(text, …)` as Hono's `c.json` builds it: on @hono/node-server the static
    // `Response.json` makes a full undici Response, which costs more than the whole bare route.
    const json = { 'content-type': 'application/json' }
    const route = adapter.withEvotorProxy(
      { userTokens, proxyVersion },
      (_request, evotor) =>
        new Response(JSON.stringify(routeBody(evotor.userId, evotor.storeUuid)), { headers: json }),
    )
    app.get(ROUTE_PATH, (c) => route(c.req.raw))
  }
  return getRequestListener(app.fetch) as RequestListener
}

async function listenerFor(variant: Variant): Promise<RequestListener> {
  switch (frameworkOf(variant)) {
    case 'express':
      return (await expressApp(variant)) as RequestListener
    case 'hono':
      return honoListener(variant)
    default:
      return (await koaApp(variant)).callback()
  }
}

async function main(): Promise<void> {
  const variant = process.argv[2] as Variant
  if (!VARIANTS.includes(variant)) throw new Error(`bench/servers: unknown variant ${String(variant)}`)
  const handler = await listenerFor(variant)
  const { createServer } = await import('node:http')
  const server = createServer({ keepAliveTimeout: 60_000 }, handler)
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo
    process.send?.({ type: 'ready', port } satisfies ServerMessage)
  })
  process.on('message', (message) => {
    if (message === 'cpu') {
      const { user, system } = process.cpuUsage()
      process.send?.({ type: 'cpu', micros: user + system } satisfies ServerMessage)
    }
    if (message === 'gc') {
      // bench/callgrind.ts: a full collection right before the counted window (needs --expose-gc).
      ;(globalThis as { gc?: () => void }).gc?.()
      // The collection's sweeping is lazy (and on this thread, with --single-threaded-gc): left to
      // itself it runs inside the window, as much of it as the first promotions need, which moved
      // a webhook variant by 1-2 %. Collecting code statistics walks the heap, which first
      // finishes the sweeping.
      getHeapCodeStatistics()
      process.send?.({ type: 'gc' } satisfies ServerMessage)
    }
    if (message === 'stop') {
      server.closeAllConnections()
      server.close(() => process.exit(0))
    }
  })
  process.on('disconnect', () => process.exit(0))
}

main().catch((error: unknown) => {
  process.send?.({ type: 'error', message: String(error) } satisfies ServerMessage)
  process.exit(1)
})
