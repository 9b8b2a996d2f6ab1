// End to end over real HTTP: three Koa servers, each with its own Redis connection and caches,
// sharing one Redis through evotor-partner/redis. Deliveries are spread over them round-robin,
// like a load balancer would.
import { beforeAll, describe, expect, it } from 'vitest'
import {
  buildInstallationEvent,
  buildReceipt,
  buildSubscriptionEvent,
  randomEvotorUuid,
  randomUserId,
  randomUuid,
} from '../../src/testing/builders.js'
import { APP_TOKEN, closeInstances, createInstance, post, serveWithKoa } from './helpers/instances.js'
import { uniquePrefix, useSharedRedis } from './helpers/redis-server.js'

let servers: Array<{ url: string; close(): Promise<void> }> = []
const log: string[] = []

const redis = useSharedRedis({
  beforeClose: async () => {
    await Promise.all(servers.map((server) => server.close()))
    await closeInstances()
  },
})

beforeAll(async () => {
  const prefix = uniquePrefix()
  const instances = [0, 1, 2].map(() =>
    createInstance({ url: redis.url, prefix, log, handlerMs: 20, holdMs: 2_000 }),
  )
  await Promise.all(instances.map((instance) => instance.revocations.ready()))
  servers = await Promise.all(instances.map(serveWithKoa))
})

const app = `Bearer ${APP_TOKEN}`
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const server = (i: number) => servers[i % servers.length]!.url

/** Re-sends like the Evotor cloud until it gets 200; returns every status it saw. */
async function untilOk(send: () => Promise<{ status: number }>): Promise<number[]> {
  const statuses: number[] = []
  for (let attempt = 0; attempt < 100; attempt++) {
    const { status } = await send()
    statuses.push(status)
    if (status === 200) return statuses
    await sleep(50)
  }
  throw new Error(`no 200: ${statuses.join(',')}`)
}

async function newUser(): Promise<{ userId: string; user: string }> {
  const userId = randomUserId()
  const created = await post(server(0), '/api/v1/user/create', { userId }, app)
  expect(created.status).toBe(200)
  return { userId, user: `Bearer ${(JSON.parse(created.text) as { token: string }).token}` }
}

describe('three Koa instances sharing the Redis stores', () => {
  it('50 concurrent duplicates of a receipt and of an installation event are applied once', async () => {
    const { userId, user } = await newUser()
    const receipt = buildReceipt({ userId, storeUuid: randomEvotorUuid(), deviceUuid: randomEvotorUuid() })
    const installed = buildInstallationEvent('ApplicationInstalled', { userId })
    const [receipts, installs] = await Promise.all([
      Promise.all(Array.from({ length: 50 }, (_, i) => post(server(i), '/api/v2/receipts', receipt, user))),
      Promise.all(
        Array.from({ length: 50 }, (_, i) => post(server(i), '/api/v2/installation/event', installed, app)),
      ),
    ])
    for (const answer of [...receipts, ...installs]) {
      expect([200, 503]).toContain(answer.status)
      if (answer.status === 503) expect(answer.retryAfter).toBe('60')
    }
    // Every duplicate the instances turned away is re-sent until acknowledged, on any instance.
    await Promise.all(
      receipts.map((answer, i) =>
        answer.status === 200
          ? undefined
          : untilOk(() => post(server(i + 1), '/api/v2/receipts', receipt, user)),
      ),
    )
    await Promise.all(
      installs.map((answer, i) =>
        answer.status === 200
          ? undefined
          : untilOk(() => post(server(i + 1), '/api/v2/installation/event', installed, app)),
      ),
    )
    expect(log.filter((entry) => entry === `receipt:${receipt.id}`)).toHaveLength(1)
    expect(log.filter((entry) => entry === `installation:ApplicationInstalled:${userId}`)).toHaveLength(1)
  })

  it('subscription events sent out of order across instances are applied in order', async () => {
    const { userId } = await newUser()
    const subscriptionId = randomUuid()
    const types = [
      'SubscriptionCreated',
      'SubscriptionActivated',
      'AddonsUpdated',
      'SubscriptionTermsChanged',
      'SubscriptionRenewed',
    ] as const
    const events = types.map((type, i) =>
      buildSubscriptionEvent(type, { subscriptionId, sequenceNumber: i + 1, userId }),
    )
    // Newest first, each to another instance, all at once; then the cloud's retries.
    await Promise.all(
      [...events]
        .reverse()
        .map((event, i) => untilOk(() => post(server(i), '/api/v1/subscription/event', event, app))),
    )
    expect(log.filter((entry) => entry.startsWith(`subscription:${subscriptionId}:`))).toEqual(
      events.map((event) => `subscription:${subscriptionId}:${event.sequenceNumber}`),
    )
  })

  it('ApplicationUninstalled on one instance: the other two refuse the token within 1 s', async () => {
    const { userId, user } = await newUser()
    const storeUuid = randomEvotorUuid()
    const deviceUuid = randomEvotorUuid()
    // Every instance has verified (and cached) the token.
    for (let i = 0; i < 3; i++) {
      const answer = await post(
        server(i),
        '/api/v2/receipts',
        buildReceipt({ userId, storeUuid, deviceUuid }),
        user,
      )
      expect(answer.status).toBe(200)
    }
    await sleep(2)
    const uninstalled = buildInstallationEvent('ApplicationUninstalled', { userId })
    expect((await post(server(1), '/api/v2/installation/event', uninstalled, app)).status).toBe(200)
    const started = performance.now()
    for (const i of [0, 2]) {
      for (;;) {
        const answer = await post(
          server(i),
          '/api/v2/receipts',
          buildReceipt({ userId, storeUuid, deviceUuid }),
          user,
        )
        if (answer.status === 401) break
        expect(answer.status).toBe(200)
        expect(performance.now() - started).toBeLessThan(1_000)
        await sleep(10)
      }
    }
    expect(performance.now() - started).toBeLessThan(1_000)
    // A new install hands out a new token, accepted everywhere.
    await sleep(2)
    const again = await post(server(2), '/api/v1/user/create', { userId }, app)
    const fresh = `Bearer ${(JSON.parse(again.text) as { token: string }).token}`
    for (let i = 0; i < 3; i++) {
      const answer = await post(
        server(i),
        '/api/v2/receipts',
        buildReceipt({ userId, storeUuid, deviceUuid }),
        fresh,
      )
      expect(answer.status).toBe(200)
    }
  })
})
