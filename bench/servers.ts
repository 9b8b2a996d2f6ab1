// A child process serving one HTTP variant on 127.0.0.1 (forked by bench/http.ts, so that the
// server and autocannon never share an event loop). argv[2] is the variant name.
import type { AddressInfo } from 'node:net'
import Router from '@koa/router'
import express from 'express'
import Koa from 'koa'
import {
  APP_BEARER,
  loadExpressAdapter,
  loadKoaAdapter,
  loadLib,
  ROUTE_PATH,
  routeBody,
  TOKEN_SECRET,
} from './fixtures.js'
import { type ServerMessage, VARIANTS, type Variant } from './variants.js'

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
  const router = new Router()
  router.get(ROUTE_PATH, (ctx) => {
    const evotor = ctx.state.evotor as { userId: string; storeUuid: string | undefined } | undefined
    ctx.body = routeBody(evotor?.userId, evotor?.storeUuid)
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
  if (variant === 'express-proxy') app.use(adapter.evotorProxy({ userTokens }))
  if (variant === 'express-proxy-v1') app.use(adapter.evotorProxy({ userTokens, proxyVersion: 1 }))
  app.get(ROUTE_PATH, (req, res) => {
    res.json(routeBody(req.evotor?.userId, req.evotor?.storeUuid))
  })
  app.use(adapter.evotorErrorHandler())
  return app
}

async function main(): Promise<void> {
  const variant = process.argv[2] as Variant
  if (!VARIANTS.includes(variant)) throw new Error(`bench/servers: unknown variant ${String(variant)}`)
  const handler = variant.startsWith('express-')
    ? await expressApp(variant)
    : (await koaApp(variant)).callback()
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
