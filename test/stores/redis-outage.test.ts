// Redis stopped mid-test: deliveries answer 503 with Retry-After (never 200, never 500), nothing
// crashes or rejects unhandled, and everything works again once Redis is back. Uses a throwaway
// redis-server of its own on a free port: the shared one on 6379 is never stopped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  buildInstallationEvent,
  buildProxyHeaders,
  buildReceipt,
  buildSubscriptionEvent,
  randomEvotorUuid,
  randomUserId,
  randomUuid,
} from '../../src/testing/builders.js'
import {
  APP_TOKEN,
  closeInstances,
  createInstance,
  type Instance,
  post,
  serveWithKoa,
} from './helpers/instances.js'
import {
  closeAll,
  ready,
  startThrowawayRedis,
  type ThrowawayRedis,
  uniquePrefix,
} from './helpers/redis-server.js'

let redis: ThrowawayRedis
const unhandled: unknown[] = []
const onUnhandled = (reason: unknown) => unhandled.push(reason)

beforeAll(async () => {
  redis = await startThrowawayRedis()
  process.on('unhandledRejection', onUnhandled)
})

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled)
  await closeInstances()
  closeAll()
  await redis.dispose()
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const app = `Bearer ${APP_TOKEN}`

async function waitForStatus(instance: Instance, statuses: readonly string[]): Promise<void> {
  const until = Date.now() + 10_000
  while (!statuses.includes(instance.client.status)) {
    if (Date.now() > until) throw new Error(`client still ${instance.client.status}`)
    await sleep(10)
  }
}

/** Re-sends like the Evotor cloud until it gets 200 (here every 100 ms instead of every minute). */
async function deliverUntilOk(send: () => Promise<{ status: number }>, limitMs = 15_000): Promise<number[]> {
  const statuses: number[] = []
  const until = Date.now() + limitMs
  for (;;) {
    const { status } = await send()
    statuses.push(status)
    if (status === 200) return statuses
    if (Date.now() > until) throw new Error(`no 200 after ${limitMs} ms: ${statuses.join(',')}`)
    await sleep(100)
  }
}

describe('Redis stopped mid-test', () => {
  it('answers 503 with Retry-After while Redis is down, then recovers', async () => {
    const log: string[] = []
    const instance = createInstance({ url: redis.url, prefix: uniquePrefix(), log, leaseMs: 1_000 })
    const server = await serveWithKoa(instance)
    await instance.revocations.ready()
    try {
      const userId = randomUserId()
      const storeUuid = randomEvotorUuid()
      const deviceUuid = randomEvotorUuid()
      const created = await post(server.url, '/api/v1/user/create', { userId }, app)
      expect(created.status).toBe(200)
      const user = `Bearer ${(JSON.parse(created.text) as { token: string }).token}`
      const before = buildReceipt({ userId, storeUuid, deviceUuid })
      expect((await post(server.url, '/api/v2/receipts', before, user)).status).toBe(200)

      await redis.stop()
      await waitForStatus(instance, ['reconnecting', 'close', 'connecting', 'end'])

      const during = buildReceipt({ userId, storeUuid, deviceUuid })
      const event = buildSubscriptionEvent('SubscriptionCreated', {
        subscriptionId: randomUuid(),
        sequenceNumber: 1,
        userId,
      })
      const uninstall = buildInstallationEvent('ApplicationUninstalled', { userId: randomUserId() })
      // A proxied terminal request with a token this instance has not verified yet: the
      // revocation mark cannot be read, so it fails closed.
      const unseen = await instance.tokens.issue(userId)
      const terminal = buildProxyHeaders({ token: unseen, userId, storeUuid, deviceUuid })
      const proxied = await fetch(`${server.url}/terminal/whoami`, { headers: terminal })
      expect(proxied.status).toBe(503)
      expect(proxied.headers.get('retry-after')).toBe('60')
      expect(await proxied.text()).not.toMatch(/redis|ECONN|127\.0\.0\.1/i)
      const answers = await Promise.all([
        post(server.url, '/api/v2/receipts', during, user), // user token: revocation check or claim
        post(server.url, '/api/v2/receipts', during, app.replace(APP_TOKEN, 'wrong')), // still 401
        post(server.url, '/api/v1/subscription/event', event, app), // claim / sequence
        post(server.url, '/api/v2/installation/event', uninstall, app), // revokeUser in the handler
      ])
      const [receipt, wrong, subscription, installation] = answers
      for (const answer of [receipt, subscription, installation]) {
        expect(answer?.status).toBe(503)
        expect(answer?.retryAfter).toBe('60')
        // Nothing about the store leaks to the caller.
        expect(answer?.text).not.toMatch(/redis|ECONN|127\.0\.0\.1/i)
      }
      expect(wrong?.status).toBe(401)
      expect(log.filter((entry) => entry === `receipt:${during.id}`)).toHaveLength(0)

      await redis.start()
      await ready(instance.client)
      // The cloud re-sends each delivery until it gets 200: each is then applied exactly once.
      await deliverUntilOk(() => post(server.url, '/api/v2/receipts', during, user))
      await deliverUntilOk(() => post(server.url, '/api/v1/subscription/event', event, app))
      await deliverUntilOk(() => post(server.url, '/api/v2/installation/event', uninstall, app))
      expect((await post(server.url, '/api/v2/receipts', during, user)).status).toBe(200)
      const whoami = await fetch(`${server.url}/terminal/whoami`, { headers: terminal })
      expect(whoami.status).toBe(200)
      expect(await whoami.json()).toEqual({ userId })
      expect(log.filter((entry) => entry === `receipt:${during.id}`)).toHaveLength(1)
      expect(log.filter((entry) => entry.startsWith('subscription:'))).toHaveLength(1)
      expect(log.filter((entry) => entry.startsWith('installation:'))).toHaveLength(1)
      // Revocation works again: uninstalling the user refuses the token.
      const gone = buildInstallationEvent('ApplicationUninstalled', { userId })
      expect((await post(server.url, '/api/v2/installation/event', gone, app)).status).toBe(200)
      const refused = await post(
        server.url,
        '/api/v2/receipts',
        buildReceipt({ userId, storeUuid, deviceUuid }),
        user,
      )
      expect(refused.status).toBe(401)
      expect(unhandled).toEqual([])
    } finally {
      await server.close()
    }
  })

  it('a command that outlives commandTimeoutMs answers 503 instead of holding the request', async () => {
    const log: string[] = []
    const instance = createInstance({ url: redis.url, prefix: uniquePrefix(), log, commandTimeoutMs: 200 })
    await ready(instance.client)
    const blocker = createInstance({ url: redis.url, prefix: uniquePrefix(), log: [] })
    await ready(blocker.client)
    // DEBUG SLEEP blocks the whole server: every command waits behind it.
    const blocked = blocker.client.call('DEBUG', 'SLEEP', '1').catch(() => undefined)
    await sleep(50)
    const answer = await instance.webhooks.handle({
      method: 'POST',
      path: '/api/v1/subscription/event',
      headers: { authorization: app },
      body: JSON.stringify(
        buildSubscriptionEvent('SubscriptionCreated', {
          subscriptionId: randomUuid(),
          sequenceNumber: 1,
          userId: randomUserId(),
        }),
      ),
    })
    expect(answer.status).toBe(503)
    expect(answer.headers['retry-after']).toBe('60')
    await blocked
    expect(log).toEqual([])
    expect(unhandled).toEqual([])
  })
})
