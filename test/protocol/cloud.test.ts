import type { AddressInfo } from 'node:net'
import Koa from 'koa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { evotorWebhooks } from '../../src/adapters/koa.js'
import { createUserTokens } from '../../src/core/auth/user-tokens.js'
import { createEvotorWebhooks } from '../../src/core/webhooks.js'
import { compactForWire } from '../../src/protocol/cloud.js'
import { DevicesSchema, EmployeesSchema, ProductsSchema, StoresSchema } from '../../src/protocol/inventory.js'

const USER = '01-000000000000001'
const STORE = '20170228-F4F1-401B-80FA-9ECCA8451FFB'

describe('v2 snake_case inventory bodies are normalised to the webhook types', () => {
  it('stores: id -> uuid, other fields kept', () => {
    const [store] = StoresSchema.parse([
      { id: STORE, name: 'Кофейня', address: 'Тверская, 1', user_id: USER },
    ])
    expect(store).toMatchObject({ uuid: STORE, name: 'Кофейня', address: 'Тверская, 1' })
  })

  it('a webhook-shaped store is untouched and one with neither id nor uuid is refused', () => {
    expect(StoresSchema.parse([{ uuid: STORE, name: 'A', id: 'other' }])[0]?.uuid).toBe(STORE)
    expect(StoresSchema.safeParse([{ name: 'A' }]).success).toBe(false)
  })

  it('devices, employees and products map their snake_case fields', () => {
    expect(
      DevicesSchema.parse([{ id: 'd1', store_id: STORE, timezone_offset: 10_800_000 }])[0],
    ).toMatchObject({
      uuid: 'd1',
      storeUuid: STORE,
      timezoneOffset: 10_800_000,
    })
    expect(
      EmployeesSchema.parse([
        { id: 'e1', name: 'Иван', last_name: 'Петров', role: 'ADMIN', phone: 79876543210 },
      ])[0],
    ).toMatchObject({ uuid: 'e1', lastName: 'Петров', stores: [], phone: '79876543210' })
    const [product] = ProductsSchema.parse([
      {
        id: 'p1',
        name: 'Сидр',
        type: 'NORMAL',
        parent_id: 'g1',
        barcodes: ['2000000000060'],
        cost_price: '80.00',
      },
    ])
    expect(product).toMatchObject({
      uuid: 'p1',
      group: false,
      parentUuid: 'g1',
      barCodes: ['2000000000060'],
      costPrice: '80.00',
    })
  })
})

describe('a v2 stores webhook over HTTP', () => {
  const tokens = createUserTokens({ secret: 'cloud-v2-webhook-test-secret-0123456789' })
  const received: unknown[] = []
  let url = ''
  let close: () => Promise<void> = async () => {}

  beforeAll(async () => {
    const app = new Koa()
    app.use(
      evotorWebhooks(
        createEvotorWebhooks({
          appCredential: { bearer: ['app-secret-token-0123456789'] },
          userTokens: tokens,
          handlers: {
            stores: async ({ body }) => {
              received.push(...body)
            },
          },
        }),
      ),
    )
    const server = app.listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    close = () => new Promise((resolve) => server.close(() => resolve()))
  })

  afterAll(() => close())

  it('is accepted and the handler receives the normalised store', async () => {
    const response = await fetch(`${url}/api/v1/inventories/stores`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${await tokens.issue(USER)}`, 'content-type': 'application/json' },
      body: JSON.stringify([
        { id: STORE, name: 'Кофейня', address: null, created_at: '2026-01-10T09:00:00.000+0000' },
      ]),
    })
    expect(response.status).toBe(200)
    expect(received).toEqual([
      { id: STORE, uuid: STORE, name: 'Кофейня', address: null, created_at: '2026-01-10T09:00:00.000+0000' },
    ])
  })

  it('a v2 store naming another user (user_id) is refused before the handler', async () => {
    const before = received.length
    const response = await fetch(`${url}/api/v1/inventories/stores`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${await tokens.issue(USER)}`, 'content-type': 'application/json' },
      body: JSON.stringify([{ id: STORE, name: 'Чужой', user_id: '01-000000000000002' }]),
    })
    expect(response.status).toBe(401)
    expect(await response.json()).toMatchObject({ errors: [{ code: 1002 }] })
    expect(received.length).toBe(before)
  })

  it('a v2 store without a name gets the documented 400 with the field path', async () => {
    const response = await fetch(`${url}/api/v1/inventories/stores`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${await tokens.issue(USER)}`, 'content-type': 'application/json' },
      body: JSON.stringify([{ id: STORE }]),
    })
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ errors: [{ code: 2002, subject: '0.name' }] })
  })
})

describe('compactForWire', () => {
  it('drops null and undefined fields at any depth, keeps falsy values and array slots', () => {
    expect(
      compactForWire({
        a: null,
        b: undefined,
        c: 0,
        d: '',
        e: false,
        f: { g: null, h: [1, null, { i: null }] },
      }),
    ).toEqual({ c: 0, d: '', e: false, f: { h: [1, null, {}] } })
  })

  it('does not copy a __proto__ key', () => {
    const hostile = JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}') as object
    const out = compactForWire(hostile) as Record<string, unknown>
    expect(out).toEqual({ ok: 1 })
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })
})
