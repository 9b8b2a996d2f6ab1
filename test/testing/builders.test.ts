import { describe, expect, it } from 'vitest'
import { EVOTOR_ROUTES } from '../../src/protocol/routes.js'
import {
  buildAuthorization,
  buildDevices,
  buildDocuments,
  buildEmployees,
  buildInstallationEvent,
  buildProducts,
  buildProxyHeaders,
  buildReceipt,
  buildStores,
  buildSubscriptionEvent,
  buildUserCreate,
  buildUserToken,
  buildUserVerify,
  DOCUMENT_TEMPLATE,
  formatEvotorDate,
  randomBarcode,
  randomEvotorUuid,
  randomUserId,
  type SubscriptionEventType,
} from '../../src/testing/index.js'

const userId = randomUserId()
const storeUuid = randomEvotorUuid()
const deviceUuid = randomEvotorUuid()

describe('random ids', () => {
  it('userId matches the documented pattern and differs between calls', () => {
    const ids = Array.from({ length: 50 }, randomUserId)
    for (const id of ids) expect(id).toMatch(/^[0-9]{2}-[0-9]{15}$/)
    expect(new Set(ids).size).toBe(50)
  })

  it('store/device ids are date-prefixed upper-case uuids', () => {
    expect(randomEvotorUuid()).toMatch(/^\d{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/)
  })

  it('barcodes are EAN-13 with a valid check digit', () => {
    for (let i = 0; i < 20; i++) {
      const code = randomBarcode()
      expect(code).toMatch(/^20\d{11}$/)
      const digits = [...code].map(Number)
      const sum = digits.slice(0, 12).reduce((acc, d, index) => acc + d * (index % 2 === 0 ? 1 : 3), 0)
      expect((10 - (sum % 10)) % 10).toBe(digits[12])
    }
  })

  it('formats Evotor date-times without a colon in the offset', () => {
    expect(formatEvotorDate(new Date(Date.UTC(2017, 3, 20, 18, 26, 37, 753)))).toBe(
      '2017-04-20T18:26:37.753+0000',
    )
  })
})

describe('payload builders produce what the route schemas accept', () => {
  const types: SubscriptionEventType[] = [
    'SubscriptionCreated',
    'AddonsUpdated',
    'SubscriptionActivated',
    'SubscriptionRenewed',
    'SubscriptionTermsChanged',
    'SubscriptionTerminationRequested',
    'SubscriptionTerminated',
  ]
  it.each(types)('subscription event %s', (type) => {
    const event = buildSubscriptionEvent(type, {
      subscriptionId: 'a99fbf70-6307-4acc-b61c-741ee9eef6c0',
      sequenceNumber: 2,
      userId,
    })
    expect(event).toMatchObject({ type, sequenceNumber: 2, userId })
    expect(EVOTOR_ROUTES.subscriptionEvent.request.safeParse(event).success).toBe(true)
  })

  it('installation events with fresh ids', () => {
    const a = buildInstallationEvent('ApplicationInstalled', { userId })
    const b = buildInstallationEvent('ApplicationUninstalled', { userId })
    expect(a.id).not.toBe(b.id)
    expect(b.data.userId).toBe(userId)
    expect(EVOTOR_ROUTES.installationEvent.request.safeParse(a).success).toBe(true)
    expect(EVOTOR_ROUTES.installationEvent.request.safeParse(b).success).toBe(true)
  })

  it('user create / verify / token', () => {
    expect(EVOTOR_ROUTES.userCreate.request.safeParse(buildUserCreate({ userId })).success).toBe(true)
    expect(buildUserCreate({ userId, fields: { email: 'a@b.c' } })).toMatchObject({ userId, email: 'a@b.c' })
    const verify = buildUserVerify({ userId, username: 'u', password: 'p' })
    expect(EVOTOR_ROUTES.userVerify.request.safeParse(verify).success).toBe(true)
    expect(EVOTOR_ROUTES.userToken.request.safeParse(buildUserToken({ userId })).success).toBe(true)
  })

  it('stores, devices, employees keep the given ids', () => {
    const stores = buildStores({ storeUuid })
    const devices = buildDevices({ storeUuid, deviceUuid })
    const employees = buildEmployees({ storeUuid })
    expect(stores[0]?.uuid).toBe(storeUuid)
    expect(devices[0]).toMatchObject({ uuid: deviceUuid, storeUuid })
    expect(employees[0]?.stores).toEqual([storeUuid])
    expect(EVOTOR_ROUTES.stores.request.safeParse(stores).success).toBe(true)
    expect(EVOTOR_ROUTES.devices.request.safeParse(devices).success).toBe(true)
    expect(EVOTOR_ROUTES.employees.request.safeParse(employees).success).toBe(true)
  })

  it('products: a group, a NORMAL product with the barcode, an alcohol product, fresh ids', () => {
    const products = buildProducts({ barcode: '2000000000077' })
    expect(products.map((p) => p.group)).toEqual([true, false, false])
    expect(products[1]).toMatchObject({
      type: 'NORMAL',
      barCodes: ['2000000000077'],
      parentUuid: products[0]?.uuid,
    })
    expect(new Set(products.map((p) => p.uuid)).size).toBe(3)
    expect(buildProducts()[0]?.uuid).not.toBe(products[0]?.uuid)
    expect(EVOTOR_ROUTES.products.request.safeParse(products).success).toBe(true)
  })

  it('documents are re-addressed and leave the template untouched', () => {
    const product = { uuid: 'b0a3b0d6-9d0c-4b47-9d3f-4a8d7d1f2e11', name: 'Квас', price: 89.9 }
    const [document] = buildDocuments({ storeUuid, deviceUuid, employeeUuid: 'E1', product })
    expect(document).toMatchObject({ storeUuid, deviceUuid, openUserUuid: 'E1', type: 'SELL' })
    expect(document?.uuid).not.toBe(DOCUMENT_TEMPLATE.uuid)
    const position = document?.transactions.find((t) => (t as { type: string }).type === 'REGISTER_POSITION')
    expect(position).toMatchObject({ commodityUuid: product.uuid, commodityName: 'Квас', userUuid: 'E1' })
    expect(DOCUMENT_TEMPLATE.deviceUuid).toBe('5a188de4-49b8-4cb4-800e-eb6b5202437e')
    expect(Object.isFrozen(DOCUMENT_TEMPLATE.transactions)).toBe(true)
    expect(EVOTOR_ROUTES.documents.request.safeParse([document]).success).toBe(true)
  })

  it('receipts', () => {
    const receipt = buildReceipt({ userId, storeUuid, deviceUuid })
    expect(receipt).toMatchObject({ userId, data: { storeId: storeUuid, deviceId: deviceUuid } })
    expect(receipt.data.items).toHaveLength(1)
    expect(EVOTOR_ROUTES.receipts.request.safeParse(receipt).success).toBe(true)
  })
})

describe('headers', () => {
  it('builds proxied request headers with and without a token', () => {
    expect(buildProxyHeaders({ token: 'tok', userId, storeUuid, deviceUuid })).toEqual({
      'x-evotor-store-uuid': storeUuid,
      'x-evotor-device-uuid': deviceUuid,
      'x-evotor-user-id': userId,
      authorization: 'Bearer tok',
    })
    expect(buildProxyHeaders({ userId, storeUuid, deviceUuid })).not.toHaveProperty('authorization')
  })

  it('builds Bearer and Basic app credentials', () => {
    expect(buildAuthorization({ bearer: 'abc' })).toBe('Bearer abc')
    const basic = buildAuthorization({ basic: { username: 'логин', password: 'a:b' } })
    expect(Buffer.from(basic.slice('Basic '.length), 'base64').toString('utf8')).toBe('логин:a:b')
  })
})
