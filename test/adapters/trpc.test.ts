import { createServer } from 'node:http'
import { initTRPC, TRPCError } from '@trpc/server'
import { createExpressMiddleware } from '@trpc/server/adapters/express'
import { fetchRequestHandler } from '@trpc/server/adapters/fetch'
import { createHTTPServer } from '@trpc/server/adapters/standalone'
import express from 'express'
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import { evotorErrorHandler, evotorProxy } from '../../src/adapters/express.js'
import { withEvotorProxy } from '../../src/adapters/fetch.js'
import {
  createEvotorTrpcContext,
  EvotorError,
  type EvotorTrpcContext,
  evotorErrorFormatter,
  evotorProcedure,
} from '../../src/adapters/trpc.js'
import { createUserTokens } from '../../src/core/auth/user-tokens.js'
import { toNodeListener } from './helpers/fetch-bridge.js'
import { listen, type Started } from './helpers/harness.js'

const USER = '01-000000000000042'
const STORE = '20170228-F4F1-401B-80FA-9ECCA8451FFB'
const DEVICE = 'device-1'
const SECRET_DETAIL = 'db password is hunter2'
const tokens = createUserTokens({ secret: 'another-test-secret-at-least-32-bytes!!' })

// NODE_ENV unset: tRPC's isDev default is on (stacks in error shapes) — the formatter must still hide them.
const savedEnv = process.env.NODE_ENV
delete process.env.NODE_ENV
const t = initTRPC.context<EvotorTrpcContext>().create({ errorFormatter: evotorErrorFormatter })
if (savedEnv !== undefined) process.env.NODE_ENV = savedEnv
const terminal = evotorProcedure(t)
const router = t.router({
  whoami: t.procedure.query(({ ctx }) => ({ userId: ctx.evotor.userId, storeUuid: ctx.evotor.storeUuid })),
  device: terminal.query(({ ctx }) => {
    expectTypeOf(ctx.evotor.storeUuid).toEqualTypeOf<string>()
    expectTypeOf(ctx.evotor.deviceUuid).toEqualTypeOf<string>()
    expectTypeOf(ctx.evotor.userId).toEqualTypeOf<string>()
    return { store: ctx.evotor.storeUuid, device: ctx.evotor.deviceUuid }
  }),
  unpaid: t.procedure.query(async ({ ctx }) => {
    await Promise.resolve()
    throw EvotorError.paymentRequired(ctx.evotor.userId)
  }),
  broken: t.procedure.query(() => {
    throw new Error(SECRET_DETAIL)
  }),
  wrapped: t.procedure.query(() => {
    throw new TRPCError({ code: 'CONFLICT', cause: new Error(SECRET_DETAIL) })
  }),
  missing: t.procedure.query(() => {
    throw new TRPCError({ code: 'NOT_FOUND', message: 'no such receipt' })
  }),
  lookup: t.procedure.input(z.object({ barcode: z.string().min(8) })).query(({ input }) => input.barcode),
})

describe('evotor-partner/trpc over real HTTP', () => {
  const servers: Record<string, Started> = {}
  let headers: Record<string, string>

  beforeAll(async () => {
    headers = {
      authorization: `Bearer ${await tokens.issue(USER)}`,
      'x-evotor-user-id': USER,
      'x-evotor-store-uuid': STORE,
      'x-evotor-device-uuid': DEVICE,
    }
    const app = express()
    app.use(
      '/trpc',
      evotorProxy({ userTokens: tokens }),
      createExpressMiddleware({ router, createContext: createEvotorTrpcContext }),
    )
    app.use(evotorErrorHandler())
    servers.express = await listen(createServer(app))
    const handler = withEvotorProxy({ userTokens: tokens }, (request) =>
      fetchRequestHandler({
        endpoint: '/trpc',
        req: request,
        router,
        createContext: createEvotorTrpcContext,
      }),
    )
    servers.fetch = await listen(createServer(toNodeListener(handler)))
    const proxy = evotorProxy({ userTokens: tokens })
    servers.standalone = await listen(
      createHTTPServer({
        basePath: '/trpc/',
        // Express's proxy middleware is Connect-style: it runs on plain Node requests too.
        middleware: proxy as never,
        router,
        createContext: createEvotorTrpcContext,
      }),
    )
  })
  afterAll(async () => {
    await Promise.all(Object.values(servers).map((server) => server.close()))
  })

  const ADAPTERS = ['express', 'fetch', 'standalone'] as const
  const call = (adapter: string, path: string, extra: Record<string, string> = {}) =>
    fetch(`${servers[adapter]?.url}/trpc/${path}`, { headers: { ...headers, ...extra } })

  it.each(ADAPTERS)('%s: procedures see the verified context', async (adapter) => {
    const response = await call(adapter, 'whoami')
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ result: { data: { userId: USER, storeUuid: STORE } } })
  })

  it.each(ADAPTERS)('%s: a request without a token never reaches tRPC', async (adapter) => {
    const response = await call(adapter, 'whoami', { authorization: '' })
    expect(response.status).toBe(401)
    expect(await response.json()).toEqual({ errors: [{ code: 1002 }] })
  })

  it.each(ADAPTERS)(
    "%s: an EvotorError in a procedure answers its status and Evotor's errors",
    async (adapter) => {
      const response = await call(adapter, 'unpaid')
      expect(response.status).toBe(402)
      const { error } = (await response.json()) as { error: Record<string, unknown> }
      expect(error.errors).toEqual(EvotorError.paymentRequired(USER).toBody().errors)
      expect(error).toEqual({
        errors: [{ code: 1004, reason: 'payment required', subject: 'userUuid', value: USER }],
        message: 'payment required',
        code: -32002,
        data: { code: 'PAYMENT_REQUIRED', httpStatus: 402, path: 'unpaid' },
      })
    },
  )

  it.each(ADAPTERS)(
    '%s: a plain Error answers 500 with no message or stack (NODE_ENV unset)',
    async (adapter) => {
      const response = await call(adapter, 'broken')
      expect(response.status).toBe(500)
      const text = await response.text()
      expect(text).not.toContain(SECRET_DETAIL)
      expect(text).not.toContain('stack')
      expect(text).not.toMatch(/\.ts:\d+/)
      expect(JSON.parse(text)).toEqual({
        error: {
          message: 'Internal server error',
          code: -32603,
          data: { code: 'INTERNAL_SERVER_ERROR', httpStatus: 500, path: 'broken' },
        },
      })
    },
  )

  it.each(ADAPTERS)('%s: a TRPCError keeps its own code and message', async (adapter) => {
    const response = await call(adapter, 'missing')
    expect(response.status).toBe(404)
    expect(((await response.json()) as { error: { message: string } }).error.message).toBe('no such receipt')
  })

  it.each(ADAPTERS)("%s: a TRPCError whose message came from its cause doesn't show it", async (adapter) => {
    const response = await call(adapter, 'wrapped')
    expect(response.status).toBe(409)
    expect(await response.text()).not.toContain(SECRET_DETAIL)
  })

  it.each(ADAPTERS)(
    "%s: an input that fails its schema answers 400 'Bad request' (was 'Internal server error'), no input echoed",
    async (adapter) => {
      const response = await call(
        adapter,
        `lookup?input=${encodeURIComponent(JSON.stringify({ barcode: 'zz-sec' }))}`,
      )
      expect(response.status).toBe(400)
      const text = await response.text()
      expect(text).not.toContain('zz-sec')
      expect(JSON.parse(text)).toEqual({
        error: {
          message: 'Bad request',
          code: -32600,
          data: { code: 'BAD_REQUEST', httpStatus: 400, path: 'lookup' },
        },
      })
    },
  )

  it.each(ADAPTERS)('%s: evotorProcedure gives store and device', async (adapter) => {
    const response = await call(adapter, 'device')
    expect(await response.json()).toEqual({ result: { data: { store: STORE, device: DEVICE } } })
  })
})

describe('evotorProcedure without the terminal headers', () => {
  it('answers 400/2002 for a missing store or device before the procedure runs', async () => {
    let ran = false
    const router2 = t.router({
      p: terminal.query(() => {
        ran = true
        return 1
      }),
    })
    const caller = t.createCallerFactory(router2)
    const context = (storeUuid: string | undefined, deviceUuid: string | undefined): EvotorTrpcContext => ({
      evotor: { userId: USER, storeUuid, deviceUuid, token: {} as never },
    })
    await expect(caller(context(undefined, DEVICE)).p()).rejects.toMatchObject({
      cause: { status: 400, code: 2002, subject: 'X-Evotor-Store-Uuid' },
    })
    await expect(caller(context(STORE, undefined)).p()).rejects.toMatchObject({
      cause: { status: 400, code: 2002, subject: 'X-Evotor-Device-UUID' },
    })
    expect(ran).toBe(false)
  })
})
