import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  buildCloudDevice,
  buildCloudDocument,
  buildCloudStore,
  createFakeEvotorCloud,
  type FakeEvotorCloud,
} from '../../src/testing/index.js'

let cloud: FakeEvotorCloud
let alice: { userId: string; token: string }
let bob: { userId: string; token: string }
const store = buildCloudStore()
const device = buildCloudDevice({ storeId: store.id })

const call = (path: string, token: string | undefined, init: RequestInit = {}) =>
  fetch(`${cloud.url}${path}`, {
    ...init,
    headers: {
      accept: 'application/vnd.evotor.v2+json',
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...(init.headers as Record<string, string> | undefined),
    },
  })

beforeAll(async () => {
  cloud = await createFakeEvotorCloud({ pageSize: 2 })
  alice = cloud.addUser()
  bob = cloud.addUser()
  cloud.seed(alice.userId, {
    stores: [store],
    devices: [device],
    documents: Array.from({ length: 5 }, () =>
      buildCloudDocument({ storeId: store.id, deviceId: device.id }),
    ),
  })
})

afterAll(() => cloud.close())

describe('createFakeEvotorCloud', () => {
  it('answers 401 without a known token, and records requests without the token', async () => {
    expect((await call('/stores', undefined)).status).toBe(401)
    expect((await call('/stores', 'nope')).status).toBe(401)
    expect(JSON.stringify(cloud.requests)).not.toContain(alice.token)
  })

  it('keeps users apart: bob cannot read alice’s store or its documents', async () => {
    expect((await call(`/stores/${store.id}`, bob.token)).status).toBe(404)
    expect((await call(`/stores/${store.id}/documents`, bob.token)).status).toBe(404)
    expect(await (await call('/stores', bob.token)).json()).toEqual({ items: [], paging: {} })
  })

  it('pages with an opaque cursor that must be sent alone, and sends rate-limit headers', async () => {
    const first = await call(`/stores/${store.id}/documents?type=SELL`, alice.token)
    expect(first.headers.get('x-ratelimit-limit')).toBe('1000')
    const body = (await first.json()) as { items: unknown[]; paging: { next_cursor?: string } }
    expect(body.items).toHaveLength(2)
    const cursor = body.paging.next_cursor as string
    expect((await call(`/stores/${store.id}/documents?cursor=${cursor}&type=SELL`, alice.token)).status).toBe(
      400,
    )
    expect((await call(`/stores/${store.id}/documents?cursor=garbage`, alice.token)).status).toBe(400)
    expect((await call(`/stores/${store.id}/documents?limit=0`, alice.token)).status).toBe(400)
    const second = (await (
      await call(`/stores/${store.id}/documents?cursor=${cursor}`, alice.token)
    ).json()) as {
      items: unknown[]
    }
    expect(second.items).toHaveLength(2)
  })

  it('refuses bad bodies with 4xx, never 5xx', async () => {
    const post = (body: string, type = 'application/vnd.evotor.v2+json') =>
      call(`/stores/${store.id}/products`, alice.token, {
        method: 'POST',
        body,
        headers: { 'content-type': type },
      })
    expect((await post('{not json')).status).toBe(400)
    expect((await post('{}')).status).toBe(400)
    expect((await post('[{"name":"x"}]', 'application/vnd.evotor.v2+bulk+json')).status).toBe(202)
    expect((await post('"x"', 'application/vnd.evotor.v2+bulk+json')).status).toBe(400)
    const put = await call(`/stores/${store.id}/products`, alice.token, {
      method: 'PUT',
      body: '[{"name":"no id"}]',
      headers: { 'content-type': 'application/vnd.evotor.v2+bulk+json' },
    })
    expect(put.status).toBe(400)
    expect(await put.json()).toMatchObject({ violations: [{ reason: 'missing', subject: '[0].id' }] })
    expect((await call('/unknown/route', alice.token)).status).toBe(404)
    expect((await call('/stores/%E0%A4%A', alice.token)).status).toBe(400)
    expect((await call('/api/apps/%E0%A4%A/events', cloud.publisherToken)).status).toBe(404)
    expect((await call('/stores', alice.token, { method: 'DELETE' })).status).toBe(405)
  })

  it('answers 413 above 10 MB', async () => {
    const big = JSON.stringify([{ name: 'x'.repeat(10 * 1024 * 1024) }])
    const response = await call(`/stores/${store.id}/products`, alice.token, {
      method: 'POST',
      body: big,
      headers: { 'content-type': 'application/vnd.evotor.v2+bulk+json' },
    })
    expect(response.status).toBe(413)
  })

  it('moves bulk tasks ACCEPTED -> RUNNING -> COMPLETED as they are polled', async () => {
    const created = await call(`/stores/${store.id}/products`, alice.token, {
      method: 'POST',
      body: JSON.stringify([{ id: 'x1', name: 'Хлеб' }]),
      headers: { 'content-type': 'application/vnd.evotor.v2+bulk+json' },
    })
    const { id } = (await created.json()) as { id: string }
    const statuses: string[] = []
    for (let i = 0; i < 3; i++) {
      statuses.push(((await (await call(`/bulks/${id}`, alice.token)).json()) as { status: string }).status)
    }
    expect(statuses).toEqual(['RUNNING', 'COMPLETED', 'COMPLETED'])
    expect((await call(`/bulks/${id}`, bob.token)).status).toBe(404)
    expect(cloud.products(alice.userId, store.id).map((p) => p.id)).toContain('x1')
  })

  it('filters documents by their close time read as Evotor date-times: no offset is UTC, years 0000-0099 as written', async () => {
    const user = cloud.addUser()
    const own = buildCloudStore()
    const at = (close_date: string, id: string) => ({
      ...buildCloudDocument({ storeId: own.id, deviceId: device.id, id }),
      close_date,
    })
    cloud.seed(user.userId, {
      stores: [own],
      documents: [
        at('2024-03-01T10:00:00.000', 'no-offset'),
        at('2024-03-01T13:00:00.000+0300', 'moscow'),
        at('0050-03-01 10:00:00+0000', 'year-50'),
      ],
    })
    const ids = async (query: string) => {
      const response = await call(`/stores/${own.id}/documents?${query}`, user.token)
      expect(response.status).toBe(200)
      return ((await response.json()) as { items: { id: string }[] }).items.map((d) => d.id).sort()
    }
    const tenUtc = Date.UTC(2024, 2, 1, 10)
    expect(await ids(`since=${tenUtc}`)).toEqual(['moscow', 'no-offset'])
    expect(await ids(`since=${tenUtc + 1}`)).toEqual([])
    const year50 = new Date(0)
    year50.setUTCFullYear(50, 2, 1)
    year50.setUTCHours(10)
    expect(await ids(`since=${year50.getTime()}&until=${year50.getTime() + 1}`)).toEqual(['year-50'])
  })

  it('bad options throw a TypeError naming the option', async () => {
    await expect(createFakeEvotorCloud({ pageSize: 0 })).rejects.toThrow('options.pageSize')
  })
})
