import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type {
  DocumentInput,
  InventoryEntityInput,
  ProductInput,
  ReceiptEventInput,
} from '../../src/repositories/index.js'
import { RECEIPTS_PER_TRANSACTION } from '../../src/repositories/index.js'
import { createTestDb, fixture, type TestDb } from '../helpers.js'

const USER = '01-000000000000001'
const OTHER = '01-000000000000002'
const STORE = '20170928-3176-40EB-80E2-A11F032E282A'

type Receipt = ReceiptEventInput & { data: Record<string, unknown> & { id: string } }

function receipt(id: string, extra: Record<string, unknown> = {}): Receipt {
  const base = fixture<Receipt>('assembled/partner_v2_receipts.POST.request.json')
  return { ...base, id: `event-${id}`, data: { ...base.data, id, ...extra } }
}

let t: TestDb
beforeEach(async () => {
  t = await createTestDb()
})
afterEach(async () => {
  await t.cleanup()
})

describe('stores, devices, employees', () => {
  it('upserts by uuid, keeping case and raw JSON; lookups ignore case', async () => {
    const stores = fixture<InventoryEntityInput[]>('assembled/partner_v1_inventories_stores.PUT.request.json')
    const devices = fixture<InventoryEntityInput[]>(
      'assembled/partner_v1_inventories_devices.PUT.request.json',
    )
    const employees = fixture<InventoryEntityInput[]>(
      'assembled/partner_v1_inventories_employees.PUT.request.json',
    )
    expect(await t.repos.inventory.upsertStores(USER, stores)).toBe(1)
    await t.repos.inventory.upsertDevices(USER, devices)
    await t.repos.inventory.upsertEmployees(USER, employees)

    const store = await t.repos.inventory.getStore(USER, '20170228-f4f1-401b-80fa-9ecca8451ffb')
    expect(store).toMatchObject({
      uuid: '20170228-F4F1-401B-80FA-9ECCA8451FFB',
      userId: USER,
      name: 'Мой магазин',
    })
    expect(store?.raw).toEqual(stores[0])
    expect(await t.repos.inventory.getDevice(USER, '20170222-d58c-40e0-8051-b53adff38860')).toMatchObject({
      uuid: '20170222-D58C-40E0-8051-B53ADFF38860',
      storeUuid: '20170228-F4F1-401B-80FA-9ECCA8451FFB',
      timezoneOffset: 10800000,
    })
    expect(await t.repos.inventory.getEmployee(USER, '20170222-5670-4067-8017-FF5F40F1A23E')).toMatchObject({
      name: 'Иван',
      lastName: 'Иванов',
      role: 'CASHIER',
      phone: '79876543210',
    })

    t.clock.advance(1000)
    await t.repos.inventory.upsertStores(USER, [
      {
        uuid: '20170228-f4f1-401b-80fa-9ecca8451ffb',
        name: 'Новое имя',
        address: null,
      } as InventoryEntityInput,
    ])
    const renamed = await t.repos.inventory.getStore(USER, '20170228-F4F1-401B-80FA-9ECCA8451FFB')
    expect(renamed).toMatchObject({
      name: 'Новое имя',
      address: null,
      uuid: '20170228-F4F1-401B-80FA-9ECCA8451FFB',
    })
    expect(await t.repos.inventory.listStores(USER)).toHaveLength(1)
  })

  it("another user's delivery of the same uuid is that user's own row: the first user's row is untouched", async () => {
    const uuid = '20170228-F4F1-401B-80FA-9ECCA8451FFB'
    expect(await t.repos.inventory.upsertStores(USER, [{ uuid, name: 'A' } as InventoryEntityInput])).toBe(1)
    expect(
      await t.repos.inventory.upsertDevices(USER, [{ uuid, name: 'kassa' } as InventoryEntityInput]),
    ).toBe(1)
    expect(
      await t.repos.inventory.upsertEmployees(USER, [{ uuid, name: 'Иван' } as InventoryEntityInput]),
    ).toBe(1)
    t.clock.advance(1000)
    const other = { uuid: uuid.toLowerCase(), name: 'other' } as InventoryEntityInput
    expect(await t.repos.inventory.upsertStores(OTHER, [other])).toBe(1)
    expect(await t.repos.inventory.upsertDevices(OTHER, [other])).toBe(1)
    expect(await t.repos.inventory.upsertEmployees(OTHER, [other])).toBe(1)
    expect(await t.repos.inventory.getStore(USER, uuid)).toMatchObject({
      userId: USER,
      name: 'A',
      updatedAt: '2024-05-01T10:00:00.000Z',
    })
    expect(await t.repos.inventory.getDevice(USER, uuid)).toMatchObject({ userId: USER, name: 'kassa' })
    expect(await t.repos.inventory.getEmployee(USER, uuid)).toMatchObject({ userId: USER, name: 'Иван' })
    expect(await t.repos.inventory.getStore(OTHER, uuid)).toMatchObject({ userId: OTHER, name: 'other' })
    expect(await t.repos.inventory.getDevice(OTHER, uuid)).toMatchObject({ userId: OTHER, name: 'other' })
    expect(await t.repos.inventory.getEmployee(OTHER, uuid)).toMatchObject({ userId: OTHER, name: 'other' })
    expect((await t.repos.inventory.listStores(OTHER)).map((x) => x.name)).toEqual(['other'])
    // Each owner updates only their own row.
    expect(await t.repos.inventory.upsertStores(USER, [{ uuid, name: 'B' } as InventoryEntityInput])).toBe(1)
    expect((await t.repos.inventory.getStore(USER, uuid))?.name).toBe('B')
    expect((await t.repos.inventory.getStore(OTHER, uuid))?.name).toBe('other')
  })

  it('writes a batch atomically: one bad item writes nothing', async () => {
    const bad = [
      { uuid: 'ok-1', name: 'a' },
      { uuid: null, name: 'b' },
    ] as unknown as InventoryEntityInput[]
    await expect(t.repos.inventory.upsertStores(USER, bad)).rejects.toThrow()
    expect(await t.repos.inventory.getStore(USER, 'ok-1')).toBeUndefined()
  })
})

describe('products', () => {
  const products = fixture<ProductInput[]>(
    'spec/partner_v1_inventories_stores_storeUuid_products.POST.request.json',
  )

  it('upserts per store and finds products by barcode and EGAIS code, scoped to the user', async () => {
    await t.repos.products.upsert(USER, STORE, products)
    const byBarcode = await t.repos.products.findByBarcode(
      { userId: USER, storeUuid: STORE.toLowerCase() },
      '2000000000060',
    )
    expect(byBarcode).toMatchObject({
      uuid: '01ba18b6-8707-5f47-3d9c-4db058054cb2',
      storeUuid: STORE,
      name: 'Сидр',
      price: '123.12',
      barCodes: ['2000000000060'],
      alcoCodes: ['0000000000000000001'],
      type: 'ALCOHOL_NOT_MARKED',
      group: false,
    })
    expect((await t.repos.products.findByBarcode({ userId: USER }, '2000000000060'))?.name).toBe('Сидр')
    expect((await t.repos.products.findByAlcoCode({ userId: USER }, '0000000000000000001'))?.name).toBe(
      'Сидр',
    )
    expect(await t.repos.products.findByBarcode({ userId: OTHER }, '2000000000060')).toBeUndefined()
    expect(
      await t.repos.products.findByBarcode({ userId: USER, storeUuid: 'other-store' }, '2000000000060'),
    ).toBeUndefined()
    expect(await t.repos.products.findByBarcode({ userId: USER }, '0000')).toBeUndefined()
  })

  it('replaces the barcodes on update and accepts the legacy lower-case names', async () => {
    await t.repos.products.upsert(USER, STORE, products)
    const [first] = products
    if (!first) throw new Error('fixture')
    await t.repos.products.upsert(USER, STORE, [
      { ...first, barCodes: undefined, barcodes: ['4600000000001'], name: 'Сидр 2' } as ProductInput,
    ])
    expect(await t.repos.products.findByBarcode({ userId: USER }, '2000000000060')).toBeUndefined()
    expect((await t.repos.products.findByBarcode({ userId: USER }, '4600000000001'))?.name).toBe('Сидр 2')
    expect((await t.repos.products.get(USER, STORE, first.uuid))?.barCodes).toEqual(['4600000000001'])
  })
})

describe('products of two users', () => {
  it("another user's delivery of the same (store, uuid) is their own product: neither the first product nor its codes change", async () => {
    const [first] = fixture<ProductInput[]>(
      'spec/partner_v1_inventories_stores_storeUuid_products.POST.request.json',
    )
    if (!first) throw new Error('fixture')
    expect(await t.repos.products.upsert(USER, STORE, [first])).toBe(1)
    const other = { ...first, name: 'other', barCodes: ['4600000000099'] } as ProductInput
    expect(await t.repos.products.upsert(OTHER, STORE.toLowerCase(), [other])).toBe(1)
    expect(await t.repos.products.get(USER, STORE, first.uuid)).toMatchObject({
      userId: USER,
      name: 'Сидр',
      barCodes: ['2000000000060'],
    })
    expect(await t.repos.products.get(OTHER, STORE, first.uuid)).toMatchObject({
      userId: OTHER,
      name: 'other',
      barCodes: ['4600000000099'],
    })
    expect(await t.repos.products.findByBarcode({ userId: USER }, '4600000000099')).toBeUndefined()
    expect(await t.repos.products.findByBarcode({ userId: OTHER }, '2000000000060')).toBeUndefined()
    expect((await t.repos.products.findByBarcode({ userId: OTHER }, '4600000000099'))?.name).toBe('other')
    expect((await t.repos.products.findByBarcode({ userId: USER }, '2000000000060'))?.name).toBe('Сидр')
  })
})

describe('documents', () => {
  it('stores each (store, uuid) once', async () => {
    const docs = fixture<DocumentInput[]>(
      'assembled/partner_v1_inventories_stores_storeUuid_documents.PUT.request.json',
    )
    expect(await t.repos.documents.insert(USER, STORE, docs)).toEqual({ inserted: 1, duplicates: 0 })
    expect(await t.repos.documents.insert(USER, STORE, docs)).toEqual({ inserted: 0, duplicates: 1 })
    const doc = await t.repos.documents.get(USER, STORE, '175d8ae9-79db-4588-a65a-8f0613e2d0ff')
    expect(doc).toMatchObject({
      type: 'SELL',
      deviceUuid: '5a188de4-49b8-4cb4-800e-eb6b5202437e',
      closeDate: '2016-09-13T14:32:09.000Z',
    })
    expect(doc?.raw).toEqual(docs[0])
  })
})

describe('receipts', () => {
  const dayStart = new Date('2017-06-07T00:00:00.000Z')
  const dayEnd = new Date('2017-06-08T00:00:00.000Z')

  it('a batch that fails mid-way keeps its committed chunks; the re-sent batch completes it, nothing twice', async () => {
    const size = RECEIPTS_PER_TRANSACTION * 2 + 100
    const batch = Array.from({ length: size }, (_, i) => receipt(`m-${i}`, { totalAmount: '0.01' }))
    // A failure while the second chunk is written (a crash, the disk): its transaction rolls back.
    t.db.sqliteFile.exec(
      `CREATE TRIGGER fail_once BEFORE INSERT ON receipts WHEN NEW.id = 'm-${RECEIPTS_PER_TRANSACTION + 7}'
       BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END`,
    )
    await expect(t.repos.receipts.insert(USER, batch)).rejects.toThrow(/disk I\/O error/)
    const committed = await t.repos.receipts.storeSummary(USER, STORE, dayStart, dayEnd)
    // The first chunk only: rows and totals committed together.
    expect(committed).toEqual({ count: RECEIPTS_PER_TRANSACTION, total: '5.00' })
    t.db.sqliteFile.exec('DROP TRIGGER fail_once')
    expect(await t.repos.receipts.insert(USER, batch)).toEqual({
      inserted: size - RECEIPTS_PER_TRANSACTION,
      duplicates: RECEIPTS_PER_TRANSACTION,
    })
    expect(await t.repos.receipts.storeSummary(USER, STORE, dayStart, dayEnd)).toEqual({
      count: size,
      total: (size / 100).toFixed(2),
    })
  })

  it('a batch repeating a receipt id (any case) stores and counts the first copy', async () => {
    expect(
      await t.repos.receipts.insert(USER, [
        receipt('dup', { totalAmount: '1' }),
        receipt('DUP', { totalAmount: '2' }),
      ]),
    ).toEqual({ inserted: 1, duplicates: 1 })
    expect(await t.repos.receipts.storeSummary(USER, STORE, dayStart, dayEnd)).toEqual({
      count: 1,
      total: '1.00',
    })
  })

  it('a range off the quarter-hours adds its edges from the receipts', async () => {
    await t.repos.receipts.insert(USER, [
      receipt('e1', { totalAmount: '1', dateTime: '2017-06-07T10:05:00.000Z' }),
      receipt('e2', { totalAmount: '2', dateTime: '2017-06-07T10:20:00.000Z' }),
      receipt('e3', { totalAmount: '4', dateTime: '2017-06-07T10:40:00.000Z' }),
    ])
    const sum = (from: string, to: string) =>
      t.repos.receipts.storeSummary(USER, STORE, new Date(from), new Date(to))
    expect(await sum('2017-06-07T10:04:00.000Z', '2017-06-07T10:41:00.000Z')).toEqual({
      count: 3,
      total: '7.00',
    })
    expect(await sum('2017-06-07T10:06:00.000Z', '2017-06-07T10:40:00.000Z')).toEqual({
      count: 1,
      total: '2.00',
    })
    expect(await sum('2017-06-07T10:21:00.000Z', '2017-06-07T10:29:00.000Z')).toEqual({
      count: 0,
      total: '0.00',
    })
  })

  it('stores a receipt once and counts it once', async () => {
    expect(await t.repos.receipts.insert(USER, [receipt('r1')])).toEqual({ inserted: 1, duplicates: 0 })
    expect(await t.repos.receipts.insert(USER, [receipt('r1')])).toEqual({ inserted: 0, duplicates: 1 })
    expect(await t.repos.receipts.get(USER, 'r1')).toMatchObject({
      eventId: 'event-r1',
      storeId: STORE,
      deviceId: '1022722e-9441-4beb-beae-c6bc5e7af30d',
      dateTime: '2017-06-07T12:55:18.000Z',
      totalAmount: '123.12',
      type: 'SELL',
    })
    expect(await t.repos.receipts.storeSummary(USER, STORE, dayStart, dayEnd)).toEqual({
      count: 1,
      total: '123.12',
    })
  })

  it('sums decimal totals exactly and subtracts refunds', async () => {
    await t.repos.receipts.insert(USER, [
      receipt('a', { totalAmount: 0.1 }),
      receipt('b', { totalAmount: '0.2' }),
      receipt('c', { totalAmount: 0.05, type: 'PAYBACK' }),
    ])
    expect(await t.repos.receipts.storeSummary(USER, STORE, dayStart, dayEnd)).toEqual({
      count: 3,
      total: '0.25',
    })
    await t.repos.receipts.insert(USER, [receipt('d', { totalAmount: 0.05 })])
    expect((await t.repos.receipts.storeSummary(USER, STORE, dayStart, dayEnd)).total).toBe('0.30')
  })

  it('is a sales summary: SELL added, PAYBACK subtracted, purchases (BUY, BUYBACK) and unknown types left out', async () => {
    await t.repos.receipts.insert(USER, [
      receipt('sell', { totalAmount: '100.50' }),
      receipt('payback', { totalAmount: 0.5, type: 'PAYBACK' }),
      receipt('buy', { totalAmount: 1000, type: 'BUY' }),
      receipt('buyback', { totalAmount: 300, type: 'BUYBACK' }),
      receipt('unknown', { totalAmount: 7, type: 'SOMETHING_NEW' }),
      receipt('untyped', { totalAmount: 9, type: null }),
    ])
    expect(await t.repos.receipts.storeSummary(USER, STORE, dayStart, dayEnd)).toEqual({
      count: 2,
      total: '100.00',
    })
  })

  it('stores amounts exactly, whatever their precision, and sums them exactly', async () => {
    await t.repos.receipts.insert(USER, [
      receipt('huge', { totalAmount: '12345678901234567890.123456789' }),
      receipt('long', { totalAmount: `1.${'0'.repeat(500)}1` }),
      receipt('exp', { totalAmount: '1.5e3' }),
      receipt('tiny', { totalAmount: 5e-324 }),
    ])
    expect((await t.repos.receipts.get(USER, 'huge'))?.totalAmount).toBe('12345678901234567890.123456789')
    expect((await t.repos.receipts.get(USER, 'long'))?.totalAmount).toBe(`1.${'0'.repeat(500)}1`)
    expect((await t.repos.receipts.get(USER, 'exp'))?.totalAmount).toBe('1500')
    expect((await t.repos.receipts.get(USER, 'tiny'))?.totalAmount).toBe(`0.${'0'.repeat(323)}5`)
    const total = await t.repos.receipts.storeSummary(USER, STORE, dayStart, dayEnd)
    expect(total.count).toBe(4)
    expect(total.total).toBe(`12345678901234569391.123456789${'0'.repeat(314)}5${'0'.repeat(176)}1`)
  })

  it('refuses a receipt whose amount cannot be kept exactly, and stores none of the batch', async () => {
    const tooLong = receipt('bad', { totalAmount: '1e-100000' })
    await expect(t.repos.receipts.insert(USER, [receipt('good'), tooLong])).rejects.toThrow(
      /receipts\[1\]\.data\.totalAmount/,
    )
    expect(await t.repos.receipts.get(USER, 'good')).toBeUndefined()
  })

  it('takes the items when a receipt has no totalAmount: never NULL, never 0 for a priced receipt', async () => {
    await t.repos.receipts.insert(USER, [
      receipt('items', { totalAmount: undefined, items: [{ sumPrice: '1.10' }, { sumPrice: 2 }] }),
    ])
    expect((await t.repos.receipts.get(USER, 'items'))?.totalAmount).toBe('3.10')
  })

  it('summarises one store and one day only, case-insensitively on the store id', async () => {
    await t.repos.receipts.insert(USER, [
      receipt('in', { totalAmount: 10 }),
      receipt('other-store', { storeId: 'another', totalAmount: 1 }),
      receipt('yesterday', { dateTime: '2017-06-06T23:59:59Z', totalAmount: 1 }),
      receipt('tomorrow', { dateTime: '2017-06-08T00:00:00Z', totalAmount: 1 }),
      receipt('msk-evening', { dateTime: '2017-06-08T02:30:00+0300', totalAmount: 2 }),
    ])
    await t.repos.receipts.insert(OTHER, [
      receipt('foreign', { totalAmount: 100 }),
      receipt('in', { totalAmount: 5 }),
    ])
    expect(await t.repos.receipts.storeSummary(USER, STORE.toLowerCase(), dayStart, dayEnd)).toEqual({
      count: 2,
      total: '12.00',
    })
    // The same receipt id under another user is another receipt, summarised for that user only.
    expect(await t.repos.receipts.storeSummary(OTHER, STORE, dayStart, dayEnd)).toEqual({
      count: 2,
      total: '105.00',
    })
    expect((await t.repos.receipts.get(USER, 'in'))?.totalAmount).toBe('10')
    expect((await t.repos.receipts.get(OTHER, 'in'))?.totalAmount).toBe('5')
    expect(await t.repos.receipts.storeSummary(USER, 'nothing', dayStart, dayEnd)).toEqual({
      count: 0,
      total: '0.00',
    })
  })

  it('rejects a batch with a receipt without data.id and writes none of it', async () => {
    const bad = { id: 'e', data: { totalAmount: 1 } } as unknown as ReceiptEventInput
    await expect(t.repos.receipts.insert(USER, [receipt('good'), bad])).rejects.toThrow(
      /receipts\[1\]\.data\.id/,
    )
    expect(await t.repos.receipts.get(USER, 'good')).toBeUndefined()
  })

  it('keeps receipts across a restart', async () => {
    await t.repos.receipts.insert(USER, [receipt('r1')])
    await t.reopen()
    expect((await t.repos.receipts.insert(USER, [receipt('r1')])).duplicates).toBe(1)
    expect(await t.repos.receipts.storeSummary(USER, STORE, dayStart, dayEnd)).toEqual({
      count: 1,
      total: '123.12',
    })
  })
})
