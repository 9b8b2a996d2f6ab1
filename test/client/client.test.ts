import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  createEvotorClient,
  type EvotorApiError,
  type EvotorClientClock,
  type EvotorClientOptions,
  isEvotorApiError,
} from '../../src/client/index.js'
import {
  buildCloudDevice,
  buildCloudDocument,
  buildCloudEmployee,
  buildCloudProduct,
  buildCloudStore,
  createFakeEvotorCloud,
  type FakeEvotorCloud,
} from '../../src/testing/index.js'

let cloud: FakeEvotorCloud
let user: { userId: string; token: string }
const store = buildCloudStore({ name: 'Кофейня' })
const otherStore = buildCloudStore({ name: 'Склад' })
const device = buildCloudDevice({ storeId: store.id })
const base = Date.UTC(2026, 0, 10, 9, 0, 0)
// 7 documents an hour apart: pages of 2 give 4 pages.
const documents = Array.from({ length: 7 }, (_, i) =>
  buildCloudDocument({
    storeId: store.id,
    deviceId: device.id,
    closedAt: new Date(base + i * 3_600_000),
    position: { name: `Товар ${i}`, price: '10.10', quantity: '1.000' },
  }),
)

/** A clock that records the waits it is asked for and does not sleep. */
function recordingClock(): EvotorClientClock & { waits: number[] } {
  const waits: number[] = []
  return {
    waits,
    now: () => Date.now(),
    sleep: (ms, signal) => {
      signal?.throwIfAborted()
      waits.push(ms)
      return Promise.resolve()
    },
  }
}

function clientFor(token: string, options: Partial<EvotorClientOptions> = {}) {
  return createEvotorClient({ token, baseUrl: cloud.url, retry: { jitterMs: 0 }, ...options })
}

const caught = async (promise: Promise<unknown>): Promise<EvotorApiError> => {
  try {
    await promise
  } catch (error) {
    if (isEvotorApiError(error)) return error
    throw error
  }
  throw new Error('expected the call to fail')
}

beforeAll(async () => {
  cloud = await createFakeEvotorCloud({ pageSize: 2, bulkPolls: 2 })
  user = cloud.addUser()
  cloud.seed(user.userId, {
    stores: [store, otherStore],
    devices: [device, buildCloudDevice({ storeId: otherStore.id })],
    employees: [buildCloudEmployee({ storeId: store.id })],
    documents,
    products: { [store.id]: [buildCloudProduct({ id: 'p-seeded', price: '120.50' })] },
  })
})

afterEach(() => {
  cloud.clearFaults()
})

afterAll(async () => {
  await cloud.close()
})

describe('resources and headers', () => {
  it('sends the v2 media type and Bearer token, and parses stores, terminals and employees', async () => {
    const client = clientFor(user.token)
    const stores = await client.stores.list().toArray()
    expect(stores.map((s) => s.name).sort()).toEqual(['Кофейня', 'Склад'])
    expect((await client.stores.get(store.id)).address).toBe(store.address)
    const devices = await client.devices.list({ storeId: store.id }).toArray()
    expect(devices.map((d) => d.id)).toEqual([device.id])
    expect((await client.employees.list().toArray())[0]?.stores).toEqual([store.id])
    const last = cloud.requests.at(-1)
    expect(last?.auth).toBe('bearer')
    expect(last?.userId).toBe(user.userId)
  })

  it('uses X-Authorization when asked (the 2018 SDK style)', async () => {
    const client = clientFor(user.token, { authHeader: 'x-authorization' })
    await client.stores.get(store.id)
    expect(cloud.requests.at(-1)?.auth).toBe('x-authorization')
  })

  it('keeps decimals exactly as sent and unknown fields', async () => {
    const product = await clientFor(user.token).products.get(store.id, 'p-seeded')
    expect(product.price).toBe('120.50')
    expect(product.measure_name).toBe('шт')
  })

  it('omits null and undefined fields from what it sends', async () => {
    const client = clientFor(user.token)
    const created = await client.products.create(store.id, {
      id: 'p-compact',
      name: 'Квас',
      price: '89.90',
      description: null,
      barcodes: undefined,
    })
    expect(created).not.toHaveProperty('description')
    expect(created).not.toHaveProperty('barcodes')
    expect(cloud.products(user.userId, store.id).find((p) => p.id === 'p-compact')).toMatchObject({
      name: 'Квас',
      price: '89.90',
    })
    const patched = await client.products.update(store.id, 'p-compact', { price: '99.00' })
    expect(patched.price).toBe('99.00')
    expect(patched.name).toBe('Квас')
    await client.products.deleteMany(store.id, ['p-compact'])
    expect(cloud.products(user.userId, store.id).some((p) => p.id === 'p-compact')).toBe(false)
  })

  it('forUser looks the token up per user; another user sees only their own stores', async () => {
    const other = cloud.addUser()
    cloud.seed(other.userId, { stores: [buildCloudStore({ name: 'Чужой' })] })
    const tokens = new Map([
      [user.userId, user.token],
      [other.userId, other.token],
    ])
    const client = createEvotorClient({ getToken: (id) => tokens.get(id) ?? '', baseUrl: cloud.url })
    expect((await client.forUser(other.userId).stores.list().toArray()).map((s) => s.name)).toEqual(['Чужой'])
    const refused = await caught(client.forUser(other.userId).stores.get(store.id))
    expect(refused.status).toBe(404)
    const unknown = await caught(client.forUser('01-999999999999999').stores.list().toArray())
    expect(unknown.code).toBe('unauthorized')
    expect(unknown.status).toBe(0)
    expect(unknown.path).toBe('/stores')
    expect(unknown.message).toMatch(/was not sent: no cloud token/)
  })
})

describe('paging', () => {
  it('iterates items across 4 pages of 2, asking for later pages with the cursor alone', async () => {
    const before = cloud.requests.length
    const client = clientFor(user.token)
    const ids: string[] = []
    for await (const doc of client.documents.list(store.id, { since: base, type: 'SELL' })) ids.push(doc.id)
    expect(ids).toEqual(documents.map((d) => d.id))
    const calls = cloud.requests.slice(before)
    expect(calls).toHaveLength(4)
    expect(calls[0]?.query).toEqual({ since: String(base), type: 'SELL' })
    for (const call of calls.slice(1)) expect(Object.keys(call.query)).toEqual(['cursor'])
  })

  it('persists a cursor from pages() and resumes from it in a new client', async () => {
    const saved: { cursor?: string; ids: string[] } = { ids: [] }
    let pages = 0
    for await (const page of clientFor(user.token).documents.list(store.id, { since: base }).pages()) {
      saved.ids.push(...page.items.map((d) => d.id))
      if (page.nextCursor !== undefined) saved.cursor = page.nextCursor
      pages += 1
      if (pages === 2) break // the process "stops" after two pages
    }
    expect(saved.ids).toHaveLength(4)
    const resumed: string[] = []
    const restarted = clientFor(user.token)
    let lastPage: { cursor: string | undefined; nextCursor: string | undefined } | undefined
    for await (const page of restarted.documents.list(store.id, { cursor: saved.cursor as string }).pages()) {
      resumed.push(...page.items.map((d) => d.id))
      lastPage = page
    }
    expect([...saved.ids, ...resumed]).toEqual(documents.map((d) => d.id))
    expect(lastPage?.nextCursor).toBeUndefined()
  })

  it('filters by since/until (epoch ms or Date)', async () => {
    const docs = await clientFor(user.token)
      .documents.list(store.id, { since: new Date(base + 2 * 3_600_000), until: base + 4 * 3_600_000 })
      .toArray()
    expect(docs.map((d) => d.id)).toEqual(documents.slice(2, 4).map((d) => d.id))
  })
})

describe('rate limits', () => {
  it('waits Retry-After plus jitter on 429 and succeeds', async () => {
    const clock = recordingClock()
    cloud.fail({ path: `/stores/${store.id}`, status: 429, headers: { 'retry-after': '2' }, times: 2 })
    const client = clientFor(user.token, { clock, retry: { jitterMs: 100, maxWaitMs: 10_000 } })
    expect((await client.stores.get(store.id)).id).toBe(store.id)
    expect(clock.waits).toHaveLength(2)
    for (const wait of clock.waits) {
      expect(wait).toBeGreaterThanOrEqual(2000)
      expect(wait).toBeLessThan(2100)
    }
  })

  it('waits X-RateLimit-Reset when there is no Retry-After', async () => {
    const clock = recordingClock()
    cloud.fail({
      path: '/devices',
      status: 429,
      headers: { 'x-ratelimit-limit': '100', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '3' },
    })
    const devices = await clientFor(user.token, { clock }).devices.list().toArray()
    expect(devices).toHaveLength(2)
    expect(clock.waits).toEqual([3000])
  })

  it('really waits a short Retry-After with the default clock', async () => {
    cloud.fail({ path: '/employees', status: 429, headers: { 'retry-after': '0.05' } })
    const started = performance.now()
    expect(await clientFor(user.token).employees.list().toArray()).toHaveLength(1)
    expect(performance.now() - started).toBeGreaterThanOrEqual(45)
  })

  it('gives up with a typed error carrying the wait when the total wait would exceed the budget', async () => {
    const clock = recordingClock()
    cloud.fail({
      path: '/stores',
      status: 429,
      headers: { 'retry-after': '30', 'x-ratelimit-limit': '10' },
      times: 5,
    })
    const error = await caught(
      clientFor(user.token, { clock, retry: { maxWaitMs: 45_000, jitterMs: 0 } })
        .stores.list()
        .toArray(),
    )
    expect(error.status).toBe(429)
    expect(error.code).toBe('too_many_requests')
    expect(error.retry).toEqual({ attempts: 2, waitedMs: 30_000, retryAfterMs: 30_000 })
    expect(error.rateLimit?.limit).toBe(10)
    expect(error.retryable).toBe(true)
    expect(clock.waits).toEqual([30_000])
  })

  it('gives up after maxAttempts', async () => {
    const clock = recordingClock()
    cloud.fail({ path: '/bulks', status: 429, headers: { 'retry-after': '1' }, times: 3 })
    const error = await caught(
      clientFor(user.token, { clock, retry: { maxAttempts: 3, jitterMs: 0 } })
        .bulks.list()
        .toArray(),
    )
    expect(error.retry.attempts).toBe(3)
    expect(clock.waits).toEqual([1000, 1000])
  })

  it('an abort cancels a rate-limit wait (real clock, long Retry-After)', async () => {
    cloud.fail({ path: `/stores/${store.id}`, status: 429, headers: { 'retry-after': '30' } })
    const controller = new AbortController()
    const started = performance.now()
    const call = clientFor(user.token).stores.get(store.id, { signal: controller.signal })
    setTimeout(() => controller.abort(new Error('stopped by the test')), 50)
    await expect(call).rejects.toThrow('stopped by the test')
    expect(performance.now() - started).toBeLessThan(5000)
  })
})

describe('retries', () => {
  it('retries a GET on 503 and on a dropped connection', async () => {
    const clock = recordingClock()
    cloud.fail({ method: 'GET', path: `/stores/${store.id}`, status: 503 })
    cloud.fail({ method: 'GET', path: `/stores/${store.id}`, drop: true })
    const before = cloud.requests.length
    expect(
      (await clientFor(user.token, { clock, retry: { backoffMs: 10, jitterMs: 0 } }).stores.get(store.id)).id,
    ).toBe(store.id)
    expect(cloud.requests.length - before).toBe(3)
    expect(clock.waits).toEqual([10, 20])
  })

  it('does not retry a POST on 503', async () => {
    const clock = recordingClock()
    cloud.fail({ method: 'POST', path: `/stores/${store.id}/products`, status: 503 })
    const before = cloud.requests.length
    const error = await caught(clientFor(user.token, { clock }).products.create(store.id, { name: 'Хлеб' }))
    expect(error.status).toBe(503)
    expect(error.method).toBe('POST')
    expect(error.path).toBe(`/stores/${store.id}/products`)
    expect(error.retry.attempts).toBe(1)
    expect(cloud.requests.length - before).toBe(1)
    expect(clock.waits).toEqual([])
  })

  it('does not retry a POST after a dropped connection', async () => {
    cloud.fail({ method: 'POST', path: `/stores/${store.id}/products`, drop: true })
    const error = await caught(clientFor(user.token).products.create(store.id, { name: 'Хлеб' }))
    expect(error.code).toBe('network_error')
    expect(error.retry.attempts).toBe(1)
  })

  it('times out a slow answer per attempt and retries a GET', async () => {
    const clock = recordingClock()
    cloud.fail({ path: `/stores/${store.id}`, delayMs: 400 })
    const client = clientFor(user.token, { clock, timeoutMs: 100, retry: { backoffMs: 1 } })
    expect((await client.stores.get(store.id)).id).toBe(store.id)
    expect(clock.waits).toHaveLength(1)
    cloud.fail({ path: `/stores/${store.id}`, delayMs: 400, times: 2 })
    const error = await caught(
      clientFor(user.token, { clock, timeoutMs: 100, retry: { maxAttempts: 2, backoffMs: 1 } }).stores.get(
        store.id,
      ),
    )
    expect(error.code).toBe('timeout')
    expect(error.retry.attempts).toBe(2)
  })

  it('an AbortSignal cancels an attempt in flight', async () => {
    cloud.fail({ path: `/stores/${store.id}`, delayMs: 300 })
    const error = await clientFor(user.token)
      .stores.get(store.id, { signal: AbortSignal.timeout(50) })
      .catch((e: unknown) => e)
    expect((error as Error).name).toBe('TimeoutError')
  })

  it('limits calls in flight per token', async () => {
    for (let i = 0; i < 6; i++) cloud.fail({ path: `/stores/${otherStore.id}`, delayMs: 60 })
    let running = 0
    let peak = 0
    const fetchSpy: typeof fetch = async (input, init) => {
      running += 1
      peak = Math.max(peak, running)
      try {
        return await fetch(input, init)
      } finally {
        running -= 1
      }
    }
    const limited = clientFor(user.token, { concurrency: 2, fetch: fetchSpy })
    await Promise.all(Array.from({ length: 6 }, () => limited.stores.get(otherStore.id)))
    expect(peak).toBe(2)
  })
})

describe('concurrency queue', () => {
  it('an abort while waiting for a slot leaves the line without blocking the others', async () => {
    for (let i = 0; i < 2; i++) cloud.fail({ path: `/stores/${store.id}`, delayMs: 100 })
    const client = clientFor(user.token, { concurrency: 1 })
    const first = client.stores.get(store.id)
    const controller = new AbortController()
    const queued = client.stores.get(store.id, { signal: controller.signal })
    const third = client.stores.get(store.id)
    controller.abort(new Error('gave up waiting'))
    await expect(queued).rejects.toThrow('gave up waiting')
    expect((await first).id).toBe(store.id)
    expect((await third).id).toBe(store.id)
  })
})

describe('errors', () => {
  it('401 names the cloud token and never contains it', async () => {
    const secret = 'cloud-token-SECRET-value-0123456789'
    const logged: string[] = []
    const logger = { warn: (d: object, m: string) => void logged.push(JSON.stringify(d) + m) }
    const error = await caught(clientFor(secret, { logger }).stores.list().toArray())
    expect(error.status).toBe(401)
    expect(error.tokenKind).toBe('cloud')
    expect(error.message).toMatch(/cloud token was refused/)
    expect(error.message).toMatch(/user\/token/)
    const everything =
      JSON.stringify({ ...error, message: error.message, stack: error.stack }) + logged.join('')
    expect(everything).not.toContain(secret)
  })

  it('403 names the missing scope', async () => {
    const readOnly = cloud.addUser({ scopes: ['store:read', 'product:read'] })
    cloud.seed(readOnly.userId, { stores: [store] })
    const error = await caught(clientFor(readOnly.token).products.create(store.id, { name: 'Хлеб' }))
    expect(error.status).toBe(403)
    expect(error.scope).toBe('product:write')
    expect(error.tokenKind).toBe('cloud')
    expect(error.message).toContain('product:write')
    expect(error.message).not.toContain(readOnly.token)
  })

  it('masks a token that Evotor echoes in an error body', async () => {
    cloud.fail({
      path: '/stores',
      status: 422,
      body: {
        code: 'bad',
        message: `token ${user.token} is odd`,
        violations: [{ reason: 'x', subject: user.token }],
      },
    })
    const error = await caught(clientFor(user.token).stores.list().toArray())
    expect(error.status).toBe(422)
    expect(error.code).toBe('bad')
    expect(JSON.stringify({ m: error.message, v: error.violations })).not.toContain(user.token)
    expect(error.violations).toEqual([{ reason: 'x', subject: '***' }])
  })

  it('the publisher API uses the publisher token and its 401 says so', async () => {
    cloud.publishEvent({ type: 'Store', action: 'created', payload: { id: store.id }, timestamp: base })
    cloud.publishEvent({
      type: 'Token',
      action: 'updated',
      payload: { user_id: user.userId },
      timestamp: base + 1,
    })
    cloud.publishEvent({ type: 'Store', action: 'removed', payload: { id: store.id }, timestamp: base + 2 })
    const client = createEvotorClient({
      baseUrl: cloud.url,
      publisher: { token: cloud.publisherToken, appId: cloud.appId },
    })
    const stores = await client.publisher.events.list({ since: base, type: 'Store' }).toArray()
    expect(stores.map((e) => e.action)).toEqual(['created', 'removed'])
    const push = await client.publisher.pushNotifications.send({
      devices: [device.id],
      payload: { refresh: true },
    })
    expect(push.status).toBe('ACCEPTED')
    expect((await client.publisher.pushNotifications.get(push.id)).devices?.[0]?.status).toBe('DELIVERED')
    const wrong = createEvotorClient({
      baseUrl: cloud.url,
      publisher: { token: user.token, appId: cloud.appId },
    })
    const error = await caught(wrong.publisher.events.list().toArray())
    expect(error.tokenKind).toBe('publisher')
    expect(error.message).toMatch(/publisher token/)
  })

  it('passes Warning headers to the logger', async () => {
    const warnings: Array<Record<string, unknown>> = []
    cloud.fail({ path: `/stores/${store.id}`, delayMs: 0, headers: {} })
    cloud.fail({
      path: `/devices/${device.id}`,
      status: 200,
      headers: { warning: '299 - "this URL is switched off on 2027-01-01"' },
      body: device,
    })
    const client = clientFor(user.token, { logger: { warn: (details) => void warnings.push(details) } })
    await client.devices.get(device.id)
    expect(warnings).toEqual([
      {
        method: 'GET',
        path: `/devices/${device.id}`,
        warning: '299 - "this URL is switched off on 2027-01-01"',
      },
    ])
  })
})

describe('bulk writes', () => {
  it('a bulk upsert completes; wait() polls to the final status and returns per-item details', async () => {
    const clock = recordingClock()
    const client = clientFor(user.token, { clock })
    const task = await client.products.bulkUpsert(store.id, [
      { id: 'b-1', name: 'Чай', price: '50.00', type: 'NORMAL', description: null },
      { id: 'b-2', name: 'Кофе', price: 150, type: 'NORMAL' },
    ])
    expect(task.status).toBe('ACCEPTED')
    expect(cloud.requests.at(-1)?.contentType).toBe('application/vnd.evotor.v2+bulk+json')
    const done = await client.bulks.wait(task.id, { intervalMs: 250 })
    expect(done.status).toBe('COMPLETED')
    expect(done.details?.map((d) => [d.id, d.status])).toEqual([
      ['b-1', 'COMPLETED'],
      ['b-2', 'COMPLETED'],
    ])
    expect(clock.waits).toEqual([250])
    expect(cloud.products(user.userId, store.id).find((p) => p.id === 'b-1')).not.toHaveProperty(
      'description',
    )
  })

  it('a bulk that fails reports the failing items', async () => {
    cloud.failBulkItems((item) => (item.price === '-1' ? 'price must not be negative' : undefined))
    try {
      const client = clientFor(user.token, { clock: recordingClock() })
      const task = await client.productGroups.bulkCreate(store.id, [
        { name: 'Напитки' },
        { name: 'Сломанный', price: '-1' },
      ])
      const done = await client.bulks.wait(task.id, { intervalMs: 1 })
      expect(done.status).toBe('FAILED')
      expect(done.details?.map((d) => d.status)).toEqual(['COMPLETED', 'FAILED'])
      expect(done.details?.[1]?.message).toBe('price must not be negative')
    } finally {
      cloud.failBulkItems(undefined)
    }
  })

  it('refuses a bulk PUT item without id before sending anything', async () => {
    const before = cloud.requests.length
    const error = await caught(
      clientFor(user.token).products.bulkUpsert(store.id, [{ id: 'ok', name: 'A' }, { name: 'no id' }]),
    )
    expect(error.status).toBe(0)
    expect(error.code).toBe('invalid_request')
    expect(error.violations).toEqual([{ reason: 'missing', subject: '[1].id' }])
    expect(cloud.requests.length).toBe(before)
  })

  it('wait() gives up after timeoutMs and can be aborted', async () => {
    const slow = await createFakeEvotorCloud({ bulkPolls: 1000 })
    try {
      const u = slow.addUser()
      slow.seed(u.userId, { stores: [store] })
      const clock = recordingClock()
      let now = 0
      clock.now = () => now
      clock.sleep = async (ms) => {
        now += ms
      }
      const client = createEvotorClient({ token: u.token, baseUrl: slow.url, clock })
      const task = await client.products.bulkCreate(store.id, [{ name: 'A' }])
      const error = await caught(client.bulks.wait(task.id, { intervalMs: 1000, timeoutMs: 3500 }))
      expect(error.code).toBe('bulk_timeout')
      const controller = new AbortController()
      const real = createEvotorClient({ token: u.token, baseUrl: slow.url })
      const waiting = real.bulks.wait(task.id, { intervalMs: 60_000, signal: controller.signal })
      setTimeout(() => controller.abort(new Error('aborted wait')), 30)
      await expect(waiting).rejects.toThrow('aborted wait')
    } finally {
      await slow.close()
    }
  })
})

describe('options', () => {
  it('bad options throw a TypeError naming the option', () => {
    expect(() => createEvotorClient({})).toThrow(/options.token, options.getToken or options.publisher/)
    expect(() => createEvotorClient({ token: 't', baseUrl: 'ftp://x' })).toThrow('options.baseUrl')
    expect(() => createEvotorClient({ token: 't', timeoutMs: 0 })).toThrow('options.timeoutMs')
    expect(() => createEvotorClient({ token: 't', retry: { maxAttempts: 0 } })).toThrow(
      'options.retry.maxAttempts',
    )
    expect(() => createEvotorClient({ token: 't', concurrency: 1.5 })).toThrow('options.concurrency')
    expect(() => createEvotorClient({ token: 'a\nb' })).toThrow('options.token')
    expect(() => createEvotorClient({ token: 't', authHeader: 'cookie' as 'authorization' })).toThrow(
      'options.authHeader',
    )
    expect(() => createEvotorClient({ publisher: { token: 't', appId: '' } })).toThrow(
      'options.publisher.appId',
    )
  })

  it('a client without options.token refuses own-resource calls with a clear TypeError', async () => {
    const client = createEvotorClient({ getToken: () => user.token, baseUrl: cloud.url })
    await expect(client.stores.list().toArray()).rejects.toThrow(/use client.forUser/)
    expect((await client.forUser(user.userId).stores.list().toArray()).length).toBe(2)
  })
})
