import { isEvotorError } from 'evotor-partner'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createPartnerTokens } from '../src/auth.js'
import { createLogger } from '../src/logger.js'
import { createWebhookHandlers } from '../src/webhooks.js'
import { createTestDb, type TestDb } from './helpers.js'

// The handlers are called directly, bypassing the library's own user check: the app's
// repository-level guarantees must hold even if a body naming another user got through.

const A = '01-000000000000001'
const B = '01-000000000000002'
const SECRET = 'handler-test-secret-0123456789abcdefghijklmnopqrstuvwxyz'

let t: TestDb
let handlers: ReturnType<typeof createWebhookHandlers>
beforeEach(() => {
  t = createTestDb()
  const tokens = createPartnerTokens({ secrets: [SECRET], userTokens: t.repos.userTokens })
  handlers = createWebhookHandlers({ repos: t.repos, tokens, logger: createLogger({ sink: () => {} }) })
})
afterEach(() => t.cleanup())

const request = { method: 'POST', path: '/', headers: {} }

async function refusal(run: () => unknown): Promise<{ status: number; code: number | undefined }> {
  try {
    await run()
  } catch (error) {
    if (isEvotorError(error)) return { status: error.status, code: error.code }
    throw error
  }
  throw new Error('expected a refusal')
}

describe('handlers refuse a body naming another user than the verified one', () => {
  it('receipts: 401/1002 with a user token, 400/2003 with the app credential; nothing stored', async () => {
    const body = [{ id: 'e1', userId: B, data: { id: 'r1', totalAmount: 1 } }]
    const context = { route: 'receipts', body, userId: A, storeUuid: undefined, request } as const
    expect(await refusal(() => handlers.receipts?.({ ...context, credential: 'user' } as never))).toEqual({
      status: 401,
      code: 1002,
    })
    expect(await refusal(() => handlers.receipts?.({ ...context, credential: 'app' } as never))).toEqual({
      status: 400,
      code: 2003,
    })
    const inner = [{ id: 'e1', userId: A, data: { id: 'r1', userId: B, totalAmount: 1 } }]
    expect(
      await refusal(() => handlers.receipts?.({ ...context, body: inner, credential: 'user' } as never)),
    ).toMatchObject({ status: 401 })
    expect(t.repos.receipts.get(A, 'r1')).toBeUndefined()
    expect(t.repos.receipts.get(B, 'r1')).toBeUndefined()
  })

  it('documents naming another user are refused and not stored', async () => {
    const body = [{ uuid: 'd1', userId: B }]
    const context = { route: 'documents', body, userId: A, storeUuid: 'store', request, credential: 'user' }
    expect(await refusal(() => handlers.documents?.(context as never))).toEqual({ status: 401, code: 1002 })
    expect(t.repos.documents.get(A, 'store', 'd1')).toBeUndefined()
    expect(t.repos.documents.get(B, 'store', 'd1')).toBeUndefined()
  })

  it('installation events act on the verified user only: an uninstall naming B does not touch B', async () => {
    t.repos.userTokens.saveIfNoneActive(B, 'token-of-b')
    const body = {
      id: 'ev-1',
      type: 'ApplicationUninstalled',
      userId: A,
      data: { productId: 'app', userId: B },
    }
    const context = { route: 'installationEvent', body, userId: A, storeUuid: undefined, request } as const
    expect(
      await refusal(() => handlers.installationEvent?.({ ...context, credential: 'user' } as never)),
    ).toEqual({
      status: 401,
      code: 1002,
    })
    expect(t.repos.userTokens.lookup('token-of-b')?.userId).toBe(B)
    expect(t.repos.installations.get(B, 'app')).toBeUndefined()
  })

  it('subscription events are stored under the verified user, never moving another user’s row', async () => {
    t.repos.subscriptions.applyEvent(B, {
      subscriptionId: 's',
      userId: B,
      sequenceNumber: 1,
      type: 'SubscriptionCreated',
    })
    const forged = { subscriptionId: 's', userId: B, sequenceNumber: 2, type: 'SubscriptionTerminated' }
    const context = { route: 'subscriptionEvent', userId: A, storeUuid: undefined, request } as const
    expect(
      await refusal(() =>
        handlers.subscriptionEvent?.({ ...context, body: forged, credential: 'user' } as never),
      ),
    ).toMatchObject({ status: 401 })
    // The catch-all for broken events does not store an event naming someone else either.
    await handlers.unknownEvent?.({
      route: 'subscriptionEvent',
      userId: A,
      request,
      reason: 'invalid',
      event: { ...forged, type: 'SubscriptionTerminated' },
      errors: [],
    })
    expect(t.repos.subscriptions.get(B, 's')).toMatchObject({
      userId: B,
      state: 'CREATED',
      lastSequenceNumber: 1,
    })
    expect(t.repos.subscriptions.get(A, 's')).toBeUndefined()
  })

  it('refuses an amount it cannot keep exactly with 400/2003 instead of storing 0 or NULL', async () => {
    const body = [{ id: 'e1', userId: A, data: { id: 'r1', totalAmount: '1e-5000' } }]
    const context = { route: 'receipts', body, userId: A, storeUuid: undefined, request, credential: 'user' }
    expect(await refusal(() => handlers.receipts?.(context as never))).toEqual({ status: 400, code: 2003 })
    expect(t.repos.receipts.get(A, 'r1')).toBeUndefined()
  })
})
