// "Instances" of a partner service for the store tests: each has its own Redis connection, its
// own verification cache and dispatcher, and shares only Redis with the others, like processes
// behind a load balancer.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Redis } from 'ioredis'
import Koa from 'koa'
import { evotorProxy, evotorWebhooks } from '../../../src/adapters/koa.js'
import { createUserTokens, type UserTokens } from '../../../src/core/auth/user-tokens.js'
import { createEvotorWebhooks, type EvotorWebhooks } from '../../../src/core/webhooks.js'
import {
  createRedisIdempotencyStore,
  createRedisRevocations,
  createRedisSequenceStore,
  type RedisRevocations,
  type RedisSequenceStore,
} from '../../../src/stores/redis.js'
import { connect } from './redis-server.js'

export const APP_TOKEN = 'app-token-5d1c0a9e-8f2b-4c3d-9e7f-0a1b2c3d4e5f'
export const TOKEN_SECRET = 'redis-store-tests-user-token-secret-0123456789'

export interface Instance {
  readonly client: Redis
  readonly tokens: UserTokens
  readonly revocations: RedisRevocations
  readonly sequences: RedisSequenceStore
  readonly webhooks: EvotorWebhooks
}

export interface InstanceOptions {
  url: string
  prefix: string
  /** What the handlers did, in order, shared by every instance of a test. */
  log: string[]
  /** How long the receipts and subscription handlers take, in ms. */
  handlerMs?: number
  holdMs?: number
  /** The dispatcher's lease on a claimed delivery, in ms. */
  leaseMs?: number
  commandTimeoutMs?: number
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export function createInstance(options: InstanceOptions): Instance {
  const { url, prefix, log, handlerMs = 0 } = options
  const client = connect(url)
  const common = {
    client,
    prefix,
    ...(options.commandTimeoutMs === undefined ? {} : { commandTimeoutMs: options.commandTimeoutMs }),
  }
  const revocations = createRedisRevocations(common)
  const sequences = createRedisSequenceStore(common)
  // The store reads the marks and attaches the tokens; the dispatcher revokes on ApplicationUninstalled.
  const tokens = createUserTokens({ secret: TOKEN_SECRET, revocations })
  const webhooks = createEvotorWebhooks({
    appCredential: { bearer: [APP_TOKEN] },
    userTokens: tokens,
    ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }),
    idempotency: createRedisIdempotencyStore(common),
    ordering: { store: sequences, holdMs: options.holdMs ?? 3_000 },
    handlers: {
      userCreate: async ({ body }) => ({ userId: body.userId, token: await tokens.issue(body.userId) }),
      receipts: async ({ body }) => {
        if (handlerMs > 0) await sleep(handlerMs)
        const receipts = Array.isArray(body) ? body : [body]
        for (const receipt of receipts) log.push(`receipt:${receipt.id}`)
      },
      subscriptionEvent: async ({ body }) => {
        if (handlerMs > 0) await sleep(handlerMs)
        log.push(`subscription:${body.subscriptionId}:${body.sequenceNumber}`)
      },
      installationEvent: async ({ body }) => {
        log.push(`installation:${body.type}:${body.data.userId}`)
      },
    },
  })
  const instance = { client, tokens, revocations, sequences, webhooks }
  created.add(instance)
  return instance
}

const created = new Set<Instance>()

/** Closes the revocation and sequence subscribers of every instance made so far (call in afterAll). */
export async function closeInstances(): Promise<void> {
  await Promise.all(
    [...created].flatMap((instance) => [instance.revocations.close(), instance.sequences.close()]),
  )
  created.clear()
}

/** A Koa server in front of an instance's dispatcher (and `GET /terminal/whoami` behind the proxy middleware), on a free port. */
export async function serveWithKoa(instance: Instance): Promise<{ url: string; close(): Promise<void> }> {
  const app = new Koa()
  app.silent = true
  app.use(evotorWebhooks(instance.webhooks))
  const proxy = evotorProxy({ userTokens: instance.tokens })
  app.use(async (ctx, next) => {
    if (ctx.path !== '/terminal/whoami') return next()
    await proxy(ctx, async () => {
      ctx.body = { userId: (ctx.state.evotor as { userId: string }).userId }
    })
  })
  const server = createServer(app.callback())
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

/** POSTs JSON the way the Evotor cloud does. */
export async function post(
  base: string,
  path: string,
  body: unknown,
  authorization: string,
): Promise<{ status: number; retryAfter: string | null; text: string }> {
  const res = await fetch(`${base}${path}`, {
    method: path === '/api/v1/inventories/stores' ? 'PUT' : 'POST',
    headers: { 'content-type': 'application/json', authorization },
    body: JSON.stringify(body),
  })
  return { status: res.status, retryAfter: res.headers.get('retry-after'), text: await res.text() }
}

/** A request for `webhooks.handle()` without HTTP. */
export function request(path: string, body: unknown, authorization: string) {
  return { method: 'POST', path, headers: { authorization }, body: JSON.stringify(body) }
}
