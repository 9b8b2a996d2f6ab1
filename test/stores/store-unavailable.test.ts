import { describe, expect, it } from 'vitest'
import { EvotorError, isEvotorError } from '../../src/core/evotor-error.js'
import type { IdempotencyStore } from '../../src/core/idempotency.js'
import { createEvotorWebhooks } from '../../src/core/webhooks.js'
import { StoreUnavailableError } from '../../src/stores/redis.js'
import { buildInstallationEvent, randomUserId } from '../../src/testing/builders.js'

const APP_TOKEN = 'store-unavailable-app-token-0123456789'

describe('StoreUnavailableError', () => {
  it('is an EvotorError answering 503 with Retry-After and nothing internal', () => {
    const cause = new Error('connect ECONNREFUSED 10.0.0.5:6379 (password=hunter2)')
    const error = new StoreUnavailableError('redis', 'claim', cause)
    expect(error).toBeInstanceOf(EvotorError)
    expect(isEvotorError(error)).toBe(true)
    expect(error.name).toBe('StoreUnavailableError')
    expect(error.status).toBe(503)
    expect(error.headers).toEqual({ 'retry-after': '60' })
    expect(error.expose).toBe(false)
    expect(error.store).toBe('redis')
    expect(error.operation).toBe('claim')
    expect(error.message).toBe('redis store unavailable (claim)')
    expect(error.cause).toBe(cause)
    expect(JSON.stringify(error)).toBe('{}')
    expect(JSON.stringify(error.toBody())).not.toMatch(/ECONN|hunter2|10\.0\.0\.5/)
  })

  it('thrown by any store, makes the dispatcher answer 503 + Retry-After (a plain Error answers 500)', async () => {
    const failing = (error: Error): IdempotencyStore => ({
      claim: () => Promise.reject(error),
      complete: () => undefined,
      release: () => undefined,
    })
    const calls: string[] = []
    const answer = async (error: Error) => {
      const webhooks = createEvotorWebhooks({
        appCredential: { bearer: [APP_TOKEN] },
        idempotency: failing(error),
        handlers: { installationEvent: async ({ body }) => void calls.push(body.id) },
      })
      return webhooks.handle({
        method: 'POST',
        path: '/api/v2/installation/event',
        headers: { authorization: `Bearer ${APP_TOKEN}` },
        body: JSON.stringify(buildInstallationEvent('ApplicationInstalled', { userId: randomUserId() })),
      })
    }
    const unavailable = await answer(new StoreUnavailableError('redis', 'claim'))
    expect(unavailable.status).toBe(503)
    expect(unavailable.headers['retry-after']).toBe('60')
    expect(unavailable.body).toBe('{}')
    const broken = await answer(new Error('bug'))
    expect(broken.status).toBe(500)
    expect(calls).toEqual([])
  })
})
