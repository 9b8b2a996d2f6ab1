// A child process for bench/hostile.ts: Koa with the built webhooks adapter and a cheap route
// (`GET /ping`), so that the client measuring stalls never shares the server's event loop.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import Koa from 'koa'
import { APP_BEARER, loadKoaAdapter, loadLib, TOKEN_SECRET } from './fixtures.js'

const lib = await loadLib()
const adapter = await loadKoaAdapter()
const webhooks = lib.createEvotorWebhooks({
  appCredential: { bearer: [APP_BEARER] },
  userTokens: lib.createUserTokens({ secret: TOKEN_SECRET }),
  handlers: { stores: async () => {}, receipts: async () => {} },
})
const app = new Koa()
app.use(adapter.evotorWebhooks(webhooks, { bodyLimit: 20 * 1024 * 1024 }))
app.use((ctx) => {
  if (ctx.path === '/ping') ctx.body = 'pong'
})
const server = createServer(app.callback()).listen(0, '127.0.0.1', () => {
  process.send?.({ port: (server.address() as AddressInfo).port })
})
