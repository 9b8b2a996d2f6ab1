import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ProductsSchema } from '../../src/protocol/inventory.js'
import { EVOTOR_ROUTES, type RouteName } from '../../src/protocol/routes.js'

const FIXTURES = new URL('../fixtures/', import.meta.url)

function load(file: string): unknown {
  return JSON.parse(readFileSync(new URL(file, FIXTURES), 'utf8'))
}

function list(folder: string): string[] {
  return readdirSync(new URL(`${folder}/`, FIXTURES))
    .filter((name) => name.endsWith('.json'))
    .map((name) => `${folder}/${name}`)
}

const ALL = ['spec', 'docs', 'pos-docs', 'assembled'].flatMap(list)

/** Partner-side request bodies, keyed by the route they are sent to. */
const PARTNER_REQUEST_ROUTES: ReadonlyArray<readonly [RegExp, RouteName]> = [
  [/partner_v1_user_create\.POST\.request/, 'userCreate'],
  [/partner_v1_user_verify\.POST\.request/, 'userVerify'],
  [/partner_v1_user_token\.POST\.request/, 'userToken'],
  [/partner_v1_subscription_event\.POST\.request/, 'subscriptionEvent'],
  [/partner_v2_installation_event\.POST\.request/, 'installationEvent'],
  [/partner_v1_inventories_stores\.PUT\.request/, 'stores'],
  [/partner_v1_inventories_devices\.PUT\.request/, 'devices'],
  [/partner_v1_inventories_employees\.PUT\.request/, 'employees'],
  [/partner_v1_inventories_stores_storeUuid_products\.POST\.request/, 'products'],
  [/partner_v1_inventories_stores_storeUuid_documents\.PUT\.request/, 'documents'],
  [/partner_v2_receipts\.POST\.request/, 'receipts'],
]

function routeOf(file: string): RouteName | undefined {
  return PARTNER_REQUEST_ROUTES.find(([pattern]) => pattern.test(file))?.[1]
}

const partnerRequests = ALL.filter((file) => /\/partner_.*\.request/.test(file))
const posDocuments = list('pos-docs')
/** Product payloads of the REST API share the webhook's `product` schema (protocol §9.1). */
const productPayloads = ALL.filter(
  (file) =>
    /evotor_v1_inventories_stores_storeUuid_products\.(POST\.request|GET\.response-200)/.test(file) ||
    /docs\/product-/.test(file),
)

describe('fixtures: every request body parses with the lenient schema of its route', () => {
  it('finds the fixtures and maps every partner request fixture to a route', () => {
    expect(ALL.length).toBeGreaterThan(60)
    expect(partnerRequests).toHaveLength(20)
    expect(partnerRequests.filter((file) => routeOf(file) === undefined)).toEqual([])
    expect(posDocuments).toHaveLength(16)
  })

  it.each(partnerRequests)('%s', (file) => {
    const route = EVOTOR_ROUTES[routeOf(file)!]
    const result = route.request.safeParse(load(file))
    expect(result.error?.issues).toBeUndefined()
    expect(result.success).toBe(true)
  })

  it.each(posDocuments)('%s (wrapped in an array for the documents route)', (file) => {
    const result = EVOTOR_ROUTES.documents.request.safeParse([load(file)])
    expect(result.error?.issues).toBeUndefined()
    expect(result.data?.[0]?.uuid).toBe((load(file) as { uuid: string }).uuid)
  })

  it.each(productPayloads)('%s (product payload)', (file) => {
    const data = load(file)
    const result = ProductsSchema.safeParse(Array.isArray(data) ? data : [data])
    expect(result.error?.issues).toBeUndefined()
    expect(result.success).toBe(true)
  })
})

describe('fixtures: documented violations are accepted (protocol §11)', () => {
  it('A2: non-hex and upper-case ids are kept as given', () => {
    const [product] = EVOTOR_ROUTES.products.request.parse(
      load('spec/partner_v1_inventories_stores_storeUuid_products.POST.request.json'),
    )
    expect(product?.parentUuid).toBe('1ddea16b-971b-dee5-3798-1b29a7aa2e27')
    const event = EVOTOR_ROUTES.subscriptionEvent.request.parse(
      load('assembled/partner_v1_subscription_event.POST.request.SubscriptionCreated.json'),
    )
    expect(event.productId).toBe('c0d01x35-5193-4cc2-9bfb-be20e0679498')
    const [receipt] = EVOTOR_ROUTES.receipts.request.parse(
      load('assembled/partner_v2_receipts.POST.request.json'),
    )
    expect(receipt?.data.storeId).toBe('20170928-3176-40EB-80E2-A11F032E282A')
  })

  it('A3: 13-digit barcodes are accepted', () => {
    const [product] = EVOTOR_ROUTES.products.request.parse(
      load('spec/partner_v1_inventories_stores_storeUuid_products.POST.request.json'),
    )
    expect(product?.barCodes).toEqual(['2000000000060'])
  })

  it('A28: documents without storeUuid/version and BUY/BUYBACK types parse', () => {
    const docs = EVOTOR_ROUTES.documents.request.parse([
      load('pos-docs/document-v1_14-BUY.json'),
      load('pos-docs/document-v1_15-BUYBACK.json'),
    ])
    expect(docs.map((doc) => doc.type)).toEqual(['BUY', 'BUYBACK'])
    expect(docs.every((doc) => doc.storeUuid === undefined && doc.version === undefined)).toBe(true)
  })

  it('A29: numeric transaction id and the "quantitySales " key are kept', () => {
    const [doc] = EVOTOR_ROUTES.documents.request.parse([
      load('pos-docs/document-v1_13-FPRINT-Z-REPORT.json'),
    ])
    const transaction = doc?.transactions?.[0]
    expect(transaction?.type).toBe('FPRINT_Z_REPORT')
    expect(transaction?.id).toBe(2)
    expect(transaction?.['quantitySales ']).toEqual({ back: 0, quantity: 0, reversal: 0, reversal_back: 0 })
  })

  it('A17: the receipt timestamp string is kept raw and the object becomes an array of one', () => {
    const receipts = EVOTOR_ROUTES.receipts.request.parse(
      load('assembled/partner_v2_receipts.POST.request.json'),
    )
    expect(receipts).toHaveLength(1)
    expect(receipts[0]?.timestamp).toBe('1496826444000001')
  })

  it('A1: the legacy userUuid verify request parses to userId', () => {
    const body = EVOTOR_ROUTES.userVerify.request.parse(
      load('docs/partner_v1_user_verify.POST.request.legacy-userUuid.json'),
    )
    expect(body.userId).toBe('01-000000000000001')
    expect(body.userUuid).toBe('01-000000000000001')
  })

  it('A41: the employee phone number becomes a string', () => {
    const [employee] = EVOTOR_ROUTES.employees.request.parse(
      load('assembled/partner_v1_inventories_employees.PUT.request.json'),
    )
    expect(employee?.phone).toBe('79876543210')
  })
})

describe('fixtures: responses pass the strict response schemas', () => {
  it.each([
    ['assembled/partner_v1_user_create.POST.response-200.json', 'userCreate'],
    ['assembled/partner_v1_user_verify.POST.response-200.json', 'userVerify'],
    ['assembled/partner_v1_commodities.GET.response-200.json', 'commodities'],
  ] as const)('%s', (file, name) => {
    const result = EVOTOR_ROUTES[name].response.safeParse(load(file))
    expect(result.error?.issues).toBeUndefined()
    expect(result.success).toBe(true)
  })

  it('the legacy userUuid verify response fails the strict schema', () => {
    const result = EVOTOR_ROUTES.userVerify.response.safeParse(
      load('docs/partner_v1_user_verify.POST.response-200.legacy-userUuid.json'),
    )
    expect(result.success).toBe(false)
    const codes = result.error?.issues.map((issue) => issue.code).sort()
    // no userId, an unexpected userUuid key, and a token with spaces and Cyrillic letters
    expect(codes).toEqual(['invalid_format', 'invalid_type', 'unrecognized_keys'])
  })
})
