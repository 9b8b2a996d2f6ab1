import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  ServerResponse,
} from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { Readable } from 'node:stream'
import { createAdaptorServer } from '@hono/node-server'
import express from 'express'
import { Hono } from 'hono'
import Koa from 'koa'
import { koaBody } from 'koa-body'
import * as expressAdapter from '../../../src/adapters/express.js'
import * as fetchAdapter from '../../../src/adapters/fetch.js'
import * as honoAdapter from '../../../src/adapters/hono.js'
import * as koaAdapter from '../../../src/adapters/koa.js'
import type { UserTokens } from '../../../src/core/auth/user-tokens.js'
import { getEvotorContext } from '../../../src/core/evotor-context.js'
import { EvotorError } from '../../../src/core/evotor-error.js'
import type { WebhookDispatcher } from '../../../src/core/http-types.js'
import type { EvotorProxy, EvotorProxyContext } from '../../../src/core/proxy.js'
import { buildProxyHeaders } from '../../../src/testing/builders.js'
import { toNodeListener } from './fetch-bridge.js'

/** A server listening on 127.0.0.1 on a free port. */
export interface Started {
  url: string
  close(): Promise<void>
}

/**
 * Node's server closes a CONNECT connection unanswered unless a 'connect' listener exists; this one
 * hands CONNECT to the app like any request (as a server that serves it would), so that tests see what
 * the adapters answer to it.
 */
function serveConnect(server: Server): void {
  server.on('connect', (req: IncomingMessage, socket: Socket) => {
    const res = new ServerResponse(req)
    res.assignSocket(socket)
    res.shouldKeepAlive = false
    res.once('finish', () => socket.end())
    server.emit('request', req, res)
  })
}

/**
 * The headers the cloud forwards with a proxied request of `userId`: a token just issued, the
 * store `storeUuid` and the device `device-1`.
 */
export async function proxyHeaders(
  tokens: Pick<UserTokens, 'issue'>,
  userId: string,
  storeUuid = 'store-1',
): Promise<Record<string, string>> {
  return buildProxyHeaders({ token: await tokens.issue(userId), userId, storeUuid, deviceUuid: 'device-1' })
}

/** An app (Express, or any Node request listener) on a free port of 127.0.0.1. */
export function serve(app: RequestListener): Promise<Started> {
  return listen(createServer(app))
}

export async function listen(server: Server): Promise<Started> {
  serveConnect(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export interface WebhookAppOptions {
  bodyLimit?: number
  bodyTimeoutMs?: number
  /** A body parser of the framework, mounted BEFORE the webhooks middleware. */
  preParser?: string
}

/** One adapter under test: how to build a real app around it. */
export interface Harness {
  name: 'koa' | 'express' | 'fetch' | 'hono' | 'hono-fetch'
  /** Body parsers of the framework (names for `preParser`). */
  preParsers: readonly string[]
  /** Whether requests to other paths reach the app's own routes (`GET /app/own` -> `{own: true}`). */
  fallsThrough: boolean
  webhooks(dispatcher: WebhookDispatcher, options?: WebhookAppOptions): Promise<Started>
  /** Routes behind the proxy: /api/json, /api/text, /api/stream, /api/throw, /api/evotor-error; others 404. */
  proxy(proxy: EvotorProxy): Promise<Started>
}

function adapterOptions({ bodyLimit, bodyTimeoutMs }: WebhookAppOptions) {
  return {
    ...(bodyLimit === undefined ? {} : { bodyLimit }),
    ...(bodyTimeoutMs === undefined ? {} : { bodyTimeoutMs }),
  }
}

const SECRET_DETAIL = 'internal secret detail'

export { SECRET_DETAIL }

function jsonFor(evotor: EvotorProxyContext | undefined, stored: EvotorProxyContext | undefined): unknown {
  return { userId: evotor?.userId, storeUuid: evotor?.storeUuid, stored: stored === evotor }
}

const koaHarness: Harness = {
  name: 'koa',
  preParsers: ['koa-body', 'koa-body-unparsed'],
  fallsThrough: true,
  webhooks(dispatcher, options = {}) {
    const app = new Koa()
    app.silent = true
    if (options.preParser === 'koa-body') app.use(koaBody())
    if (options.preParser === 'koa-body-unparsed') app.use(koaBody({ includeUnparsed: true }))
    app.use(koaAdapter.evotorWebhooks(dispatcher, adapterOptions(options)))
    app.use((ctx) => {
      if (ctx.path === '/app/own') ctx.body = { own: true }
    })
    return listen(createServer(app.callback()))
  },
  proxy(proxy) {
    const app = new Koa()
    app.silent = true
    app.use(koaAdapter.evotorProxy(proxy))
    app.use((ctx) => {
      const evotor = ctx.state.evotor as EvotorProxyContext
      if (ctx.path === '/api/json') ctx.body = jsonFor(evotor, getEvotorContext(ctx.req))
      else if (ctx.path === '/api/text') ctx.body = 'plain text'
      else if (ctx.path === '/api/stream') ctx.body = Readable.from(['str', 'eam'])
      else if (ctx.path === '/api/throw') throw new Error(SECRET_DETAIL)
      else if (ctx.path === '/api/evotor-error') throw EvotorError.paymentRequired(evotor.userId)
    })
    return listen(createServer(app.callback()))
  },
}

const expressHarness: Harness = {
  name: 'express',
  preParsers: ['json', 'raw', 'text'],
  fallsThrough: true,
  webhooks(dispatcher, options = {}) {
    const app = express()
    if (options.preParser === 'json') app.use(express.json())
    if (options.preParser === 'raw') app.use(express.raw({ type: '*/*' }))
    if (options.preParser === 'text') app.use(express.text({ type: '*/*' }))
    app.use(expressAdapter.evotorWebhooks(dispatcher, adapterOptions(options)))
    app.get('/app/own', (_req, res) => {
      res.json({ own: true })
    })
    app.use(expressAdapter.evotorErrorHandler())
    return listen(createServer(app))
  },
  proxy(proxy) {
    const app = express()
    app.use(expressAdapter.evotorProxy(proxy))
    app.get('/api/json', (req, res) => {
      res.json(jsonFor(req.evotor, getEvotorContext(req)))
    })
    app.get('/api/text', (_req, res) => {
      res.type('text/plain').send('plain text')
    })
    app.get('/api/stream', (_req, res) => {
      res.type('text/plain')
      Readable.from(['str', 'eam']).pipe(res)
    })
    app.get('/api/throw', () => {
      throw new Error(SECRET_DETAIL)
    })
    app.get('/api/evotor-error', (req) => {
      throw EvotorError.paymentRequired(req.evotor?.userId ?? '')
    })
    app.use(expressAdapter.evotorErrorHandler())
    return listen(createServer(app))
  },
}

/** The Fetch adapter's proxied routes, for the Fetch and the Hono-through-Fetch harnesses. */
function fetchProxyRoutes(proxy: EvotorProxy): (request: Request) => Response | Promise<Response> {
  return fetchAdapter.withEvotorProxy(proxy, (request, evotor) => {
    const path = new URL(request.url).pathname
    if (path === '/api/json') return Response.json(jsonFor(evotor, getEvotorContext(request)))
    if (path === '/api/text') return new Response('plain text', { headers: { 'content-type': 'text/plain' } })
    if (path === '/api/stream') {
      const bytes = new TextEncoder()
      const body = new ReadableStream({
        start(controller) {
          controller.enqueue(bytes.encode('str'))
          controller.enqueue(bytes.encode('eam'))
          controller.close()
        },
      })
      return new Response(body, { headers: { 'content-type': 'text/plain' } })
    }
    if (path === '/api/throw') throw new Error(SECRET_DETAIL)
    if (path === '/api/evotor-error') throw EvotorError.paymentRequired(evotor.userId)
    return new Response('{}', { status: 404, headers: { 'content-type': 'application/json' } })
  })
}

const fetchHarness: Harness = {
  name: 'fetch',
  preParsers: [],
  fallsThrough: false,
  webhooks(dispatcher, options = {}) {
    const handler = fetchAdapter.createEvotorWebhooksHandler(dispatcher, adapterOptions(options))
    return listen(createServer(toNodeListener(handler)))
  },
  proxy(proxy) {
    const handler = fetchProxyRoutes(proxy)
    return listen(createServer(toNodeListener(handler)))
  },
}

/**
 * Hono through `evotor-partner/hono` (its webhooks and proxy middleware, `app.onError(evotorErrorHandler)`),
 * served by a real `@hono/node-server`.
 */
const honoHarness: Harness = {
  name: 'hono',
  preParsers: [],
  fallsThrough: true,
  webhooks(dispatcher, options = {}) {
    const app = new Hono()
    app.use(honoAdapter.evotorWebhooks(dispatcher, adapterOptions(options)))
    app.get('/app/own', (c) => c.json({ own: true }))
    app.onError(honoAdapter.evotorErrorHandler)
    return listen(createAdaptorServer({ fetch: app.fetch }) as Server)
  },
  proxy(proxy) {
    const app = new Hono<honoAdapter.EvotorEnv>()
    app.use(honoAdapter.evotorProxy(proxy))
    app.get('/api/json', (c) => c.json(jsonFor(c.var.evotor, getEvotorContext(c.req.raw)) as object))
    app.get('/api/text', (c) => c.text('plain text'))
    app.get('/api/stream', (c) => {
      const bytes = new TextEncoder()
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(bytes.encode('str'))
          controller.enqueue(bytes.encode('eam'))
          controller.close()
        },
      })
      return c.body(body, 200, { 'content-type': 'text/plain' })
    })
    app.get('/api/throw', () => {
      throw new Error(SECRET_DETAIL)
    })
    app.get('/api/evotor-error', (c) => {
      throw EvotorError.paymentRequired(c.var.evotor.userId)
    })
    return listen(createAdaptorServer({ fetch: app.fetch }) as Server)
  },
}

/**
 * Hono with no adapter of its own: every request goes to the Fetch adapter's handlers
 * (`createEvotorWebhooksHandler`, `withEvotorProxy`) from one catch-all route, on a real `@hono/node-server`.
 */
const honoFetchHarness: Harness = {
  name: 'hono-fetch',
  preParsers: [],
  fallsThrough: false,
  webhooks(dispatcher, options = {}) {
    const handler = fetchAdapter.createEvotorWebhooksHandler(dispatcher, adapterOptions(options))
    const app = new Hono()
    app.all('*', (c) => handler(c.req.raw))
    return listen(createAdaptorServer({ fetch: app.fetch }) as Server)
  },
  proxy(proxy) {
    const handler = fetchProxyRoutes(proxy)
    const app = new Hono()
    app.all('*', (c) => handler(c.req.raw))
    return listen(createAdaptorServer({ fetch: app.fetch }) as Server)
  },
}

export const HARNESSES: readonly Harness[] = [
  koaHarness,
  expressHarness,
  fetchHarness,
  honoHarness,
  honoFetchHarness,
]
