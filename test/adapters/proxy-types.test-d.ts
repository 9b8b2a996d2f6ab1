/**
 * Types users asked for (issue 11): the proxy's context is typed where the middleware guarantees it.
 * Run by vitest's typecheck (vitest.config.ts `typecheck`); every `@ts-expect-error` must be an error.
 */
import express, { type Request as ExpressRequest } from 'express'
import Koa from 'koa'
import { describe, expectTypeOf, it } from 'vitest'
import { type EvotorRequest, withEvotorProxy as expressRoute } from '../../src/adapters/express.js'
import { type EvotorProxyHandler, withEvotorProxy } from '../../src/adapters/fetch.js'
import { evotorProxy as koaProxy } from '../../src/adapters/koa.js'
import type { UserTokens } from '../../src/core/auth/user-tokens.js'
import { getEvotorContext } from '../../src/core/evotor-context.js'
import { createEvotorProxy, type EvotorProxyContext, type EvotorProxyHeader } from '../../src/core/proxy.js'

declare const tokens: UserTokens
declare const headers: Headers

describe('createEvotorProxy: ids of required headers are strings', () => {
  it('requires all three by default, so all three are strings', async () => {
    const context = await createEvotorProxy({ userTokens: tokens }).authenticate(headers)
    expectTypeOf(context.userId).toEqualTypeOf<string>()
    expectTypeOf(context.storeUuid).toEqualTypeOf<string>()
    expectTypeOf(context.deviceUuid).toEqualTypeOf<string>()
  })

  it('types only the headers listed in requiredHeaders', async () => {
    const proxy = createEvotorProxy({ userTokens: tokens, requiredHeaders: ['userId', 'storeUuid'] })
    const context = await proxy.authenticate(headers)
    expectTypeOf(context.storeUuid).toEqualTypeOf<string>()
    expectTypeOf(context.deviceUuid).toEqualTypeOf<string | undefined>()
    // @ts-expect-error: the device id is not required, so it may be absent
    const device: string = context.deviceUuid
    void device
    const cached = proxy.authenticateCached?.(headers)
    if (cached !== undefined) expectTypeOf(cached.storeUuid).toEqualTypeOf<string>()
  })

  it('assumes nothing for an empty list or an array whose members are not known', async () => {
    const none = await createEvotorProxy({ userTokens: tokens, requiredHeaders: [] }).authenticate(headers)
    expectTypeOf(none.storeUuid).toEqualTypeOf<string | undefined>()
    expectTypeOf(none.deviceUuid).toEqualTypeOf<string | undefined>()
    const fromConfig: EvotorProxyHeader[] = ['userId']
    const widened = await createEvotorProxy({ userTokens: tokens, requiredHeaders: fromConfig }).authenticate(
      headers,
    )
    expectTypeOf(widened.storeUuid).toEqualTypeOf<string | undefined>()
  })

  it('still refuses unknown options and unknown headers', () => {
    // @ts-expect-error: a misspelt option is an error, not silently ignored
    createEvotorProxy({ userTokens: tokens, proxyVersoin: 1 })
    // @ts-expect-error: not an Evotor header
    createEvotorProxy({ userTokens: tokens, requiredHeaders: ['storeUuid', 'tenant'] })
  })

  it('a stricter context is usable where the plain one is expected', async () => {
    const context = await createEvotorProxy({ userTokens: tokens }).authenticate(headers)
    const plain: EvotorProxyContext = context
    expectTypeOf(plain.storeUuid).toEqualTypeOf<string | undefined>()
    expectTypeOf(getEvotorContext({})).toEqualTypeOf<EvotorProxyContext | undefined>()
  })
})

describe('Fetch: withEvotorProxy hands the route a non-optional, typed context', () => {
  it('types the context from the options', () => {
    withEvotorProxy({ userTokens: tokens }, async (request, evotor) => {
      expectTypeOf(request).toEqualTypeOf<Request>()
      expectTypeOf(evotor.storeUuid).toEqualTypeOf<string>()
      expectTypeOf(evotor.deviceUuid).toEqualTypeOf<string>()
      return Response.json({ userId: evotor.userId })
    })
    withEvotorProxy({ userTokens: tokens, requiredHeaders: ['userId', 'deviceUuid'] }, (_request, evotor) => {
      expectTypeOf(evotor.deviceUuid).toEqualTypeOf<string>()
      expectTypeOf(evotor.storeUuid).toEqualTypeOf<string | undefined>()
      return new Response(null, { status: 204 })
    })
  })

  it('types the context from a proxy made by createEvotorProxy', () => {
    const proxy = createEvotorProxy({ userTokens: tokens, requiredHeaders: ['userId', 'storeUuid'] })
    withEvotorProxy(proxy, (_request, evotor) => {
      expectTypeOf(evotor.storeUuid).toEqualTypeOf<string>()
      expectTypeOf(evotor.deviceUuid).toEqualTypeOf<string | undefined>()
      return Response.json(evotor.storeUuid.toLowerCase())
    })
  })

  it('refuses a route that needs a header the proxy does not require', () => {
    const proxy = createEvotorProxy({ userTokens: tokens, requiredHeaders: ['userId'] })
    const needsStore: EvotorProxyHandler<'storeUuid'> = (_request, evotor) => Response.json(evotor.storeUuid)
    // @ts-expect-error: the proxy does not guarantee X-Evotor-Store-Uuid
    withEvotorProxy(proxy, needsStore)
    // @ts-expect-error: a route must answer with a Response
    withEvotorProxy(proxy, () => 'text')
    // @ts-expect-error: a route must answer with a Response
    withEvotorProxy(proxy, () => 'text')
  })
})

describe('Express: req.evotor is optional on any route, non-optional behind withEvotorProxy', () => {
  it('is optional on an ordinary route (the global augmentation)', () => {
    const app = express()
    app.get('/any', (req, res) => {
      expectTypeOf(req.evotor).toEqualTypeOf<EvotorProxyContext | undefined>()
      // @ts-expect-error: a route without the proxy may have no context
      res.json(req.evotor.userId)
    })
  })

  it('is present and typed behind withEvotorProxy', () => {
    const app = express()
    app.get(
      '/terminal/stock',
      expressRoute({ userTokens: tokens, requiredHeaders: ['userId', 'storeUuid'] }, (req, res) => {
        expectTypeOf(req.evotor.userId).toEqualTypeOf<string>()
        expectTypeOf(req.evotor.storeUuid).toEqualTypeOf<string>()
        expectTypeOf(req.evotor.deviceUuid).toEqualTypeOf<string | undefined>()
        res.json({ store: req.evotor.storeUuid })
      }),
    )
    const proxy = createEvotorProxy({ userTokens: tokens })
    app.get(
      '/terminal/device',
      expressRoute(proxy, async (req) => {
        expectTypeOf(req.evotor.deviceUuid).toEqualTypeOf<string>()
        expectTypeOf(req).toMatchTypeOf<ExpressRequest>()
      }),
    )
  })

  it('EvotorRequest is the guarded request type', () => {
    expectTypeOf<EvotorRequest<'storeUuid'>['evotor']['storeUuid']>().toEqualTypeOf<string>()
    expectTypeOf<EvotorRequest['evotor']['storeUuid']>().toEqualTypeOf<string | undefined>()
    const needsDevice = (req: EvotorRequest<'deviceUuid'>) => req.evotor.deviceUuid
    // @ts-expect-error: only storeUuid is guaranteed here
    expressRoute({ userTokens: tokens, requiredHeaders: ['storeUuid'] }, (req: EvotorRequest<'deviceUuid'>) =>
      needsDevice(req),
    )
  })
})

describe('Koa: ctx.state.evotor is typed, not any', () => {
  it('is the proxy context', () => {
    const app = new Koa()
    app.use(koaProxy({ userTokens: tokens }))
    app.use((ctx) => {
      expectTypeOf(ctx.state.evotor).not.toBeAny()
      expectTypeOf(ctx.state.evotor).toEqualTypeOf<EvotorProxyContext>()
      expectTypeOf(ctx.state.evotor.userId).toEqualTypeOf<string>()
      // @ts-expect-error: not a field of the context (it would be `any` without the augmentation)
      ctx.body = ctx.state.evotor.userUuid
    })
  })
})
