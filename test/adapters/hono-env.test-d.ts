/**
 * Hono routes behind `withEvotorProxyFor<AppEnv>()` see the app's `Bindings` and `Variables` beside
 * `c.var.evotor`. Run by vitest's typecheck; every `@ts-expect-error` must be an error.
 */
import { Hono } from 'hono'
import { describe, expectTypeOf, it } from 'vitest'
import { withEvotorProxy, withEvotorProxyFor } from '../../src/adapters/hono.js'
import type { UserTokens } from '../../src/core/auth/user-tokens.js'
import { createEvotorProxy } from '../../src/core/proxy.js'

declare const tokens: UserTokens

type AppEnv = { Bindings: { DB: { prepare(sql: string): unknown } }; Variables: { requestId: string } }

describe('Hono: withEvotorProxyFor keeps the app Env', () => {
  it('types c.env and the other variables beside c.var.evotor (options form)', () => {
    const app = new Hono<AppEnv>()
    const evotorRoute = withEvotorProxyFor<AppEnv>()
    app.get(
      '/t',
      evotorRoute({ userTokens: tokens }, (c) => {
        expectTypeOf(c.env.DB.prepare).toBeFunction()
        expectTypeOf(c.var.requestId).toEqualTypeOf<string>()
        expectTypeOf(c.var.evotor.storeUuid).toEqualTypeOf<string>()
        // @ts-expect-error: the app declares no such binding
        c.env.KV
        return c.json({ user: c.var.evotor.userId })
      }),
    )
  })

  it('types c.var.evotor from a proxy made by createEvotorProxy', () => {
    const app = new Hono<AppEnv>()
    const proxy = createEvotorProxy({ userTokens: tokens, requiredHeaders: ['userId'] })
    app.get(
      '/u',
      withEvotorProxyFor<AppEnv>()(proxy, (c) => {
        expectTypeOf(c.get('requestId')).toEqualTypeOf<string>()
        expectTypeOf(c.var.evotor.storeUuid).toEqualTypeOf<string | undefined>()
        return c.text('ok')
      }),
    )
  })

  it("types c.var.evotor as the proxy's context where the app Env declares an evotor variable of its own", () => {
    type Clashing = { Variables: { requestId: string; evotor: string } }
    withEvotorProxyFor<Clashing>()({ userTokens: tokens, requiredHeaders: ['userId'] }, (c) => {
      expectTypeOf(c.var.evotor.userId).toEqualTypeOf<string>()
      expectTypeOf(c.var.requestId).toEqualTypeOf<string>()
      // @ts-expect-error: the proxy's context, not the app's declared string mixed into it
      const asString: string = c.var.evotor
      return c.text(asString)
    })
    withEvotorProxyFor<{ Bindings: { KEY: string } }>()({ userTokens: tokens }, (c) => {
      expectTypeOf(c.env.KEY).toEqualTypeOf<string>()
      expectTypeOf(c.var.evotor.deviceUuid).toEqualTypeOf<string>()
      return c.text('ok')
    })
  })

  it('is the same function as withEvotorProxy, whose own routes know only c.var.evotor', () => {
    expectTypeOf(withEvotorProxyFor<AppEnv>()).toBeFunction()
    withEvotorProxy({ userTokens: tokens }, (c) => {
      // @ts-expect-error: without the app Env, other variables are not known
      c.var.requestId
      return c.text(c.var.evotor.userId)
    })
  })
})
