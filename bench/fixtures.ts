import { randomUUID } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'

// Types come from the sources (so `npm run typecheck` passes before a build); the code that runs
// is the BUILT package in dist/, so the figures are what users get.
export type Lib = typeof import('../src/index.js')
export type ProtocolLib = typeof import('../src/protocol/index.js')
export type KoaLib = typeof import('../src/adapters/koa.js')
export type ExpressLib = typeof import('../src/adapters/express.js')
export type FetchLib = typeof import('../src/adapters/fetch.js')
export type HonoLib = typeof import('../src/adapters/hono.js')

// EVOTOR_BENCH_DIST points at another build (e.g. a prototype of a fix) for an A/B comparison.
const DIST = process.env.EVOTOR_BENCH_DIST
  ? pathToFileURL(`${process.env.EVOTOR_BENCH_DIST.replace(/\/$/, '')}/`)
  : new URL('../dist/', import.meta.url)
const FIXTURES = new URL('../test/fixtures/', import.meta.url)

function assertBuilt(): void {
  if (!existsSync(new URL('index.js', DIST))) {
    throw new Error(`bench: ${fileURLToPath(DIST)} has no build; run \`npm run build\` first`)
  }
}

/** The built `evotor-partner` entry point. */
export async function loadLib(): Promise<Lib> {
  assertBuilt()
  return (await import(new URL('index.js', DIST).href)) as Lib
}

/** The built `evotor-partner/protocol` entry point. */
export async function loadProtocol(): Promise<ProtocolLib> {
  assertBuilt()
  return (await import(new URL('protocol.js', DIST).href)) as ProtocolLib
}

/** The built `evotor-partner/hono` entry point. */
export async function loadHonoAdapter(): Promise<HonoLib> {
  assertBuilt()
  return (await import(new URL('hono.js', DIST).href)) as HonoLib
}

/** The built `evotor-partner/koa` entry point. */
export async function loadKoaAdapter(): Promise<KoaLib> {
  assertBuilt()
  return (await import(new URL('koa.js', DIST).href)) as KoaLib
}

/** The built `evotor-partner/express` entry point. */
export async function loadExpressAdapter(): Promise<ExpressLib> {
  assertBuilt()
  return (await import(new URL('express.js', DIST).href)) as ExpressLib
}

/** The built `evotor-partner/fetch` entry point. */
export async function loadFetchAdapter(): Promise<FetchLib> {
  assertBuilt()
  return (await import(new URL('fetch.js', DIST).href)) as FetchLib
}

/** The signing secret every bench process shares (tokens issued in the parent verify in a child). */
export const TOKEN_SECRET = 'bench-secret-0123456789abcdef-0123456789abcdef'
/** The HS256 secret of the hand-written `jsonwebtoken` middleware (variant `koa-jwt`). */
export const JWT_SECRET = 'bench-jwt-secret-0123456789abcdef-0123456789abcdef'
export const APP_BEARER = 'bench-app-token-0123456789abcdef'
export const APP_BASIC = { username: 'evotor', password: 'bench-password-0123456789' }
export const USER_ID = '01-000000000000001'
export const STORE_UUID = '20170228-F4F1-401B-80FA-9ECCA8451FFB'
export const DEVICE_UUID = '1022722e-9441-4beb-beae-c6bc5e7af30d'
/** The terminal route every HTTP variant serves. */
export const ROUTE_PATH = '/terminal/receipts'
/** The receipts webhook (`EVOTOR_ROUTES.receipts`), also served by the bare POST route. */
export const RECEIPTS_PATH = '/api/v2/receipts'

/** What the terminal route answers (the same in every variant). */
export function routeBody(userId: string | undefined, storeUuid: string | undefined): unknown {
  return {
    userId,
    storeUuid,
    receipts: [
      { id: '20170222-d58c-40e0-8051-b53adff38860', total: 123.12, items: 1 },
      { id: '20170222-d58c-40e0-8051-b53adff38861', total: 99.5, items: 3 },
    ],
  }
}

/** Headers of a proxied terminal request as the Evotor cloud sends them (protocol §3.2). */
export function proxyHeaders(token: string): Record<string, string> {
  return {
    authorization: `Bearer ${token}`,
    'x-evotor-store-uuid': STORE_UUID,
    'x-evotor-device-uuid': DEVICE_UUID,
    'x-evotor-user-id': USER_ID,
    accept: 'application/json',
  }
}

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(new URL(path, FIXTURES), 'utf8'))
}

type Json = Record<string, unknown>

/**
 * `PUT /api/v1/inventories/stores` with `count` stores. With `id`, every store uuid contains it
 * (autocannon's `[<id>]` placeholder makes each request body distinct).
 */
export function storesBody(count: number, id?: string): string {
  const [store] = readJson('assembled/partner_v1_inventories_stores.PUT.request.json') as Json[]
  const stores = Array.from({ length: count }, (_, i) => ({
    ...store,
    uuid: id === undefined ? `20170228-F4F1-401B-80FA-9ECCA84510${String(i).padStart(2, '0')}` : `${id}-${i}`,
    name: `Магазин №${i + 1}`,
  }))
  return JSON.stringify(stores)
}

/** `POST /api/v2/receipts`: one receipt event whose event id and receipt id contain `id`. */
export function receiptBody(id: string): string {
  const receipt = readJson('assembled/partner_v2_receipts.POST.request.json') as Json
  const data = receipt.data as Json
  return JSON.stringify({ ...receipt, id, type: 'ReceiptCreated', data: { ...data, id: `r-${id}` } })
}

/** 1,000 distinct products built from the spec example, each with a fresh uuid. */
export function products(count = 1000): Json[] {
  const [product] = readJson(
    'spec/partner_v1_inventories_stores_storeUuid_products.POST.request.json',
  ) as Json[]
  return Array.from({ length: count }, (_, i) => ({
    ...product,
    uuid: randomUUID(),
    parentUuid: randomUUID(),
    code: String(i + 1),
    barCodes: [String(2000000000000 + i)],
    name: `${String(product?.name)} ${i + 1}`,
    price: 100 + (i % 50),
  }))
}

/** `count` v1 documents cycling through the 16 POS fixtures, each with fresh uuids. */
export function documents(count = 100): Json[] {
  const dir = new URL('pos-docs/', FIXTURES)
  const files = readdirSync(fileURLToPath(dir))
    .filter((f) => f.endsWith('.json'))
    .sort()
  const templates = files.map((f) => readJson(`pos-docs/${f}`) as Json)
  return Array.from({ length: count }, (_, i) => {
    const doc = structuredClone(templates[i % templates.length]) as Json
    doc.uuid = randomUUID()
    if (typeof doc.sessionUUID === 'string') doc.sessionUUID = randomUUID()
    return doc
  })
}
