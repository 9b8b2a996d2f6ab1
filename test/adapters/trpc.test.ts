import { createServer } from 'node:http'
import { initTRPC } from '@trpc/server'
import { createExpressMiddleware } from '@trpc/server/adapters/express'
import { fetchRequestHandler } from '@trpc/server/adapters/fetch'
import express from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { evotorProxy } from '../../src/adapters/express.js'
import { withEvotorProxy } from '../../src/adapters/fetch.js'
import { createUserTokens } from '../../src/core/auth/user-tokens.js'
import { createEvotorTrpcContext, type EvotorTrpcContext } from '../../src/core/evotor-context.js'
import { toNodeListener } from './helpers/fetch-bridge.js'
import { listen, type Started } from './helpers/harness.js'

const USER = '01-000000000000042'
const STORE = '20170228-F4F1-401B-80FA-9ECCA8451FFB'
const tokens = createUserTokens({ secret: 'another-test-secret-at-least-32-bytes!!' })

const t = initTRPC.context<EvotorTrpcContext>().create()
const router = t.router({
  whoami: t.procedure.query(({ ctx }) => ({ userId: ctx.evotor.userId, storeUuid: ctx.evotor.storeUuid })),
})

describe('createEvotorTrpcContext as a tRPC createContext', () => {
  let viaExpress: Started
  let viaFetch: Started
  let headers: Record<string, string>

  beforeAll(async () => {
    headers = {
      authorization: `Bearer ${await tokens.issue(USER)}`,
      'x-evotor-user-id': USER,
      'x-evotor-store-uuid': STORE,
      'x-evotor-device-uuid': 'device-1',
    }
    const app = express()
    app.use(
      '/trpc',
      evotorProxy({ userTokens: tokens }),
      createExpressMiddleware({ router, createContext: createEvotorTrpcContext }),
    )
    viaExpress = await listen(createServer(app))
    const handler = withEvotorProxy({ userTokens: tokens }, (request) =>
      fetchRequestHandler({
        endpoint: '/trpc',
        req: request,
        router,
        createContext: createEvotorTrpcContext,
      }),
    )
    viaFetch = await listen(createServer(toNodeListener(handler)))
  })
  afterAll(async () => {
    await viaExpress.close()
    await viaFetch.close()
  })

  it.each([
    ['express', () => viaExpress],
    ['fetch', () => viaFetch],
  ])('%s: procedures see the verified context', async (_name, server) => {
    const response = await fetch(`${server().url}/trpc/whoami`, { headers })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ result: { data: { userId: USER, storeUuid: STORE } } })
  })

  it.each([
    ['express', () => viaExpress],
    ['fetch', () => viaFetch],
  ])('%s: a request without a token never reaches tRPC', async (_name, server) => {
    const response = await fetch(`${server().url}/trpc/whoami`, {
      headers: { ...headers, authorization: '' },
    })
    expect(response.status).toBe(401)
    expect(await response.json()).toEqual({ errors: [{ code: 1002 }] })
  })
})
