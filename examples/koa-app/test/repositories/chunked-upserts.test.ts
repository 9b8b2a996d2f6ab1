// Products and inventory deliveries are written in chunks (one multi-row upsert per transaction, a
// turn of the event loop in between), on SQLite and on PostgreSQL: a batch repeating a uuid is
// written once (the last copy), a batch of several chunks is written whole, and another user's
// rows are never touched.
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { type AppDb, openAppDb } from '../../src/database/index.js'
import {
  CODES_PER_TRANSACTION,
  createRepositories,
  INVENTORY_PER_TRANSACTION,
  type InventoryEntityInput,
  PRODUCTS_PER_TRANSACTION,
  type ProductInput,
  type Repositories,
} from '../../src/repositories/index.js'
import { createClock, createTempDir } from '../helpers.js'
import { createTestDatabase, dropTestDatabases } from '../support/postgres.js'

const USER = '01-000000000000001'
const OTHER = '01-000000000000002'
const STORE = '20170928-3176-40EB-80E2-A11F032E282A'

const dir = createTempDir()
afterAll(async () => {
  dir.cleanup()
  await dropTestDatabases()
})

const databases: Record<'sqlite' | 'postgres', () => Promise<AppDb>> = {
  sqlite: () => openAppDb({ path: dir.file(`chunks-${Math.random().toString(36).slice(2)}.sqlite`) }),
  postgres: async () => openAppDb({ url: await createTestDatabase() }),
}

const entity = (uuid: string, name: string) => ({ uuid, name }) as InventoryEntityInput
const product = (uuid: string, name: string, barCodes: string[] = []) =>
  ({ uuid, name, barCodes }) as ProductInput

describe.each(['sqlite', 'postgres'] as const)('chunked upserts on %s', (kind) => {
  let data: AppDb
  let repos: Repositories
  let transactions: number
  const clock = createClock()
  const open = async () => {
    data = await databases[kind]()
    const transaction = data.transaction
    transactions = 0
    data.transaction = (fn) => {
      transactions++
      return transaction(fn)
    }
    repos = createRepositories({ data, now: clock.now })
  }
  afterEach(async () => {
    await data.close()
  })

  it('a batch repeating a uuid in another case writes it once, the last copy, under the first spelling', async () => {
    await open()
    const batch = [entity('Dup-A', 'first'), entity('other', 'o'), entity('dUP-a', 'last')]
    expect(await repos.inventory.upsertStores(USER, batch)).toBe(2)
    expect(await repos.inventory.upsertDevices(USER, batch)).toBe(2)
    expect(await repos.inventory.upsertEmployees(USER, batch)).toBe(2)
    for (const get of [repos.inventory.getStore, repos.inventory.getDevice, repos.inventory.getEmployee]) {
      const row = await get(USER, 'DUP-A')
      expect(row).toMatchObject({ uuid: 'Dup-A', name: 'last' })
      expect(row?.raw).toEqual({ uuid: 'dUP-a', name: 'last' })
    }
    expect((await repos.inventory.listStores(USER)).map((s) => s.uuid)).toEqual(['Dup-A', 'other'])
    // A stored row keeps its spelling; a batch repeating it (same case too) updates it once.
    expect(
      await repos.inventory.upsertStores(USER, [
        entity('DUP-A', 'x'),
        entity('DUP-A', 'y'),
        entity('dup-a', 'z'),
      ]),
    ).toBe(1)
    expect(await repos.inventory.getStore(USER, 'dup-a')).toMatchObject({ uuid: 'Dup-A', name: 'z' })

    expect(
      await repos.products.upsert(USER, STORE, [
        product('Prod-1', 'first', ['111', '112']),
        product('prod-2', 'two', ['222']),
        product('PROD-1', 'last', ['113']),
        product('prod-1', 'really last', ['114', '111']),
      ]),
    ).toBe(2)
    expect(await repos.products.get(USER, STORE, 'prod-1')).toMatchObject({
      uuid: 'Prod-1',
      name: 'really last',
      barCodes: ['114', '111'],
    })
    expect(await repos.products.findByBarcode({ userId: USER }, '112')).toBeUndefined()
    expect(await repos.products.findByBarcode({ userId: USER }, '113')).toBeUndefined()
    expect((await repos.products.findByBarcode({ userId: USER }, '111'))?.name).toBe('really last')
    expect((await repos.products.findByBarcode({ userId: USER }, '222'))?.name).toBe('two')
    // Codes are replaced whatever the case of the uuid that replaces them.
    expect(await repos.products.upsert(USER, STORE, [product('PROD-2', 'two again', ['223'])])).toBe(1)
    expect(await repos.products.get(USER, STORE, 'prod-2')).toMatchObject({
      uuid: 'prod-2',
      name: 'two again',
      barCodes: ['223'],
    })
    expect(await repos.products.findByBarcode({ userId: USER }, '222')).toBeUndefined()
  })

  it('ids the database compares as equal although their lower case differs are written one at a time, never refused', async () => {
    await open()
    // 'café' precomposed and decomposed; 'É' and 'é': one id for PostgreSQL's ICU collation,
    // two for SQLite's NOCASE (ASCII letters only).
    const nfc = 'caf\u00e9'
    const nfd = 'cafe\u0301'
    const batch = [
      entity(nfc, 'nfc'),
      entity(nfd, 'nfd'),
      entity('\u00c9-1', 'upper'),
      entity('\u00e9-1', 'lower'),
    ]
    await repos.inventory.upsertStores(USER, batch)
    await repos.products.upsert(
      USER,
      STORE,
      batch.map((e) => product(e.uuid, (e as unknown as { name: string }).name, [`${e.uuid}-code`])),
    )
    const stores = (await repos.inventory.listStores(USER)).map((s) => s.name).sort()
    if (kind === 'postgres') {
      expect(stores).toEqual(['lower', 'nfd'])
      expect((await repos.products.get(USER, STORE, nfc))?.name).toBe('nfd')
      expect((await repos.products.get(USER, STORE, nfc))?.barCodes).toEqual([`${nfd}-code`])
    } else {
      expect(stores).toEqual(['lower', 'nfc', 'nfd', 'upper'])
      expect((await repos.products.get(USER, STORE, nfc))?.name).toBe('nfc')
    }
  })

  it('a batch of several chunks is written whole, a turn of the event loop between its transactions', async () => {
    await open()
    const stores = Array.from({ length: INVENTORY_PER_TRANSACTION * 2 + 7 }, (_, i) =>
      entity(`s-${i}`, `n${i}`),
    )
    let doneBeforeTurn: boolean | undefined
    let done = false
    setImmediate(() => {
      doneBeforeTurn = done
    })
    const written = await repos.inventory.upsertStores(USER, stores)
    done = true
    expect(doneBeforeTurn).toBe(false)
    expect(written).toBe(stores.length)
    expect(transactions).toBe(3)
    expect(await repos.inventory.listStores(USER)).toHaveLength(stores.length)

    transactions = 0
    const products = Array.from({ length: PRODUCTS_PER_TRANSACTION * 2 + 7 }, (_, i) =>
      product(`p-${i}`, `n${i}`, [`b-${i}`, `c-${i}`]),
    )
    // One product with more codes than a transaction takes: alone, its codes over two.
    const manyCodes = Array.from({ length: CODES_PER_TRANSACTION + 10 }, (_, i) => `m-${i}`)
    products.push(product('many', 'many codes', manyCodes), product('after', 'after', ['a-1']))
    expect(await repos.products.upsert(USER, STORE, products)).toBe(products.length)
    expect(transactions).toBe(3 + 2 + 1)
    for (const i of [0, PRODUCTS_PER_TRANSACTION, PRODUCTS_PER_TRANSACTION * 2 + 6]) {
      expect(await repos.products.get(USER, STORE, `P-${i}`)).toMatchObject({
        uuid: `p-${i}`,
        name: `n${i}`,
        barCodes: [`b-${i}`, `c-${i}`],
      })
    }
    expect((await repos.products.get(USER, STORE, 'many'))?.barCodes).toEqual(manyCodes)
    expect((await repos.products.findByBarcode({ userId: USER }, 'a-1'))?.name).toBe('after')
    const codes = await data.db
      .selectFrom('product_codes')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('user_id', '=', USER)
      .executeTakeFirstOrThrow()
    expect(Number(codes.n)).toBe((PRODUCTS_PER_TRANSACTION * 2 + 7) * 2 + manyCodes.length + 1)
  })

  it("another user's batch of several chunks, with the same uuids in another case, leaves the first user's rows and codes untouched", async () => {
    await open()
    const size = Math.max(INVENTORY_PER_TRANSACTION, PRODUCTS_PER_TRANSACTION) + 3
    await repos.inventory.upsertStores(
      USER,
      Array.from({ length: size }, (_, i) => entity(`u-${i}`, 'mine')),
    )
    await repos.products.upsert(
      USER,
      STORE,
      Array.from({ length: size }, (_, i) => product(`u-${i}`, 'mine', [`mine-${i}`])),
    )
    const before = clock.now().toISOString()
    clock.advance(1000)
    expect(
      await repos.inventory.upsertStores(
        OTHER,
        Array.from({ length: size }, (_, i) => entity(`U-${i}`, 'theirs')),
      ),
    ).toBe(size)
    expect(
      await repos.products.upsert(
        OTHER,
        STORE.toLowerCase(),
        Array.from({ length: size }, (_, i) => product(`U-${i}`, 'theirs', [`theirs-${i}`])),
      ),
    ).toBe(size)
    const mine = await repos.inventory.listStores(USER)
    expect(mine).toHaveLength(size)
    expect(mine.every((s) => s.name === 'mine' && s.userId === USER && s.updatedAt === before)).toBe(true)
    expect((await repos.inventory.listStores(OTHER)).every((s) => s.name === 'theirs')).toBe(true)
    for (const i of [0, size - 1]) {
      expect(await repos.products.get(USER, STORE, `u-${i}`)).toMatchObject({
        uuid: `u-${i}`,
        userId: USER,
        name: 'mine',
        barCodes: [`mine-${i}`],
        updatedAt: before,
      })
      expect(await repos.products.get(OTHER, STORE, `u-${i}`)).toMatchObject({
        uuid: `U-${i}`,
        userId: OTHER,
        name: 'theirs',
        barCodes: [`theirs-${i}`],
      })
    }
    expect(await repos.products.findByBarcode({ userId: OTHER }, 'mine-0')).toBeUndefined()
  })
})
