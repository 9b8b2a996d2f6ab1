import { describe, expectTypeOf, it } from 'vitest'
import type { UserTokens } from '../../src/core/auth/user-tokens.js'
import { createEvotorWebhooks, type WebhookContext, type WebhookHandler } from '../../src/core/webhooks.js'
import type { ReceiptEventV2 } from '../../src/protocol/documents.js'
import type { Product, Store } from '../../src/protocol/inventory.js'

declare const tokens: UserTokens
const appCredential = { bearer: ['app-token'] }

describe('handler payload types', () => {
  it('types each handler from the route table', () => {
    createEvotorWebhooks({
      appCredential,
      userTokens: tokens,
      handlers: {
        userCreate: async ({ body, userId }) => {
          expectTypeOf(body.userId).toEqualTypeOf<string>()
          expectTypeOf(userId).toEqualTypeOf<string>()
          return { userId: body.userId, token: 'abc' }
        },
        userVerify: async ({ body }) => {
          expectTypeOf(body.username).toEqualTypeOf<string | null | undefined>()
          return { userId: body.userId, hasBilling: true, token: 'abc' }
        },
        commodities: async ({ body, userId }) => {
          expectTypeOf(body.scanCode).toEqualTypeOf<string>()
          expectTypeOf(userId).toEqualTypeOf<string | undefined>()
          return { name: 'Чай', measure: 'шт' }
        },
        subscriptionEvent: async ({ body }) => {
          // Unknown types go to `unknownEvent`, so the typed handler sees only the documented ones.
          expectTypeOf(body.type).toEqualTypeOf<
            | 'SubscriptionCreated'
            | 'AddonsUpdated'
            | 'SubscriptionActivated'
            | 'SubscriptionRenewed'
            | 'SubscriptionTermsChanged'
            | 'SubscriptionTerminationRequested'
            | 'SubscriptionTerminated'
          >()
          if (body.type === 'SubscriptionCreated') expectTypeOf(body.planId).toEqualTypeOf<string>()
          expectTypeOf(body.sequenceNumber).toEqualTypeOf<number>()
        },
        stores: async ({ body, userId }) => {
          expectTypeOf(body).toEqualTypeOf<Store[]>()
          expectTypeOf(userId).toEqualTypeOf<string>()
        },
        products: async ({ body, storeUuid }) => {
          expectTypeOf(body).toEqualTypeOf<Product[]>()
          expectTypeOf(storeUuid).toEqualTypeOf<string | undefined>()
        },
        receipts: async ({ body }) => {
          expectTypeOf(body).toEqualTypeOf<ReceiptEventV2[]>()
        },
      },
    })
  })

  it('refuses a handler that returns the wrong shape', () => {
    createEvotorWebhooks({
      appCredential,
      handlers: {
        // @ts-expect-error: userVerify must return hasBilling
        userVerify: async ({ body }) => ({ userId: body.userId, token: 'abc' }),
      },
    })
    createEvotorWebhooks({
      appCredential,
      handlers: {
        // @ts-expect-error: hasBilling is a boolean, not the "True" string some Evotor pages show
        userVerify: async ({ body }) => ({ userId: body.userId, hasBilling: 'True', token: 'abc' }),
      },
    })
    createEvotorWebhooks({
      appCredential,
      handlers: {
        // @ts-expect-error: userCreate must return the token
        userCreate: async ({ body }) => ({ userId: body.userId }),
      },
    })
    const verify: WebhookHandler<'userVerify'> = async ({ body }) => ({
      userId: body.userId,
      hasBilling: false,
      token: 'abc',
    })
    expectTypeOf(verify).parameter(0).toEqualTypeOf<WebhookContext<'userVerify'>>()
  })

  it('lets a handler of a route answered with an empty 200 return any value', () => {
    const seen = new Map<string, Store[]>()
    createEvotorWebhooks({
      appCredential,
      userTokens: tokens,
      handlers: {
        stores: ({ userId, body }) => seen.set(userId, body),
        userToken: async () => 42,
      },
    })
    const stores: WebhookHandler<'stores'> = ({ body }) => body.length
    expectTypeOf(stores).returns.toEqualTypeOf<unknown>()
    // A route with an answer still checks it.
    expectTypeOf<ReturnType<WebhookHandler<'userCreate'>>>().not.toEqualTypeOf<unknown>()
  })
})

describe('handlers of routes answered with an empty 200', () => {
  it('may return any value (issue 11: `({ body }) => map.set(...)` compiles)', () => {
    const seen = new Map<string, unknown>()
    createEvotorWebhooks({
      appCredential,
      userTokens: tokens,
      handlers: {
        stores: ({ userId, body }) => seen.set(userId, body),
        receipts: async ({ body }) => body.length,
        subscriptionEvent: ({ body }) => seen.set(body.subscriptionId, body),
        userToken: ({ body }) => seen.delete(body.userId),
      },
    })
  })

  it('still checks the answer of a route that answers with a body', () => {
    createEvotorWebhooks({
      appCredential,
      handlers: {
        // @ts-expect-error: commodities answers a Commodity, not a Map
        commodities: ({ body }) => new Map([[body.scanCode, 1]]),
      },
    })
  })
})
