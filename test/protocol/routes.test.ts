import { describe, expect, expectTypeOf, it } from 'vitest'
import type { SubscriptionEvent } from '../../src/protocol/billing.js'
import type { ReceiptsV2 } from '../../src/protocol/documents.js'
import type { CommoditiesQuery, Commodity, Product } from '../../src/protocol/inventory.js'
import {
  EVOTOR_ROUTES,
  type EvotorRouteDefinition,
  ROUTE_NAMES,
  type RouteName,
  type RouteParams,
  type RouteRequest,
  type RouteResponse,
} from '../../src/protocol/routes.js'
import type { UserVerifyResponse } from '../../src/protocol/user.js'

describe('EVOTOR_ROUTES', () => {
  it('has exactly the twelve route names', () => {
    expect([...ROUTE_NAMES].sort()).toEqual(
      [
        'commodities',
        'devices',
        'documents',
        'employees',
        'installationEvent',
        'products',
        'receipts',
        'stores',
        'subscriptionEvent',
        'userCreate',
        'userToken',
        'userVerify',
      ].sort(),
    )
  })

  it('default paths and methods follow protocol §6', () => {
    const table = Object.fromEntries(
      ROUTE_NAMES.map((name) => [name, `${EVOTOR_ROUTES[name].method} ${EVOTOR_ROUTES[name].path}`]),
    )
    expect(table).toEqual({
      userCreate: 'POST /api/v1/user/create',
      userVerify: 'POST /api/v1/user/verify',
      userToken: 'POST /api/v1/user/token',
      commodities: 'GET /api/v1/commodities',
      subscriptionEvent: 'POST /api/v1/subscription/event',
      installationEvent: 'POST /api/v2/installation/event',
      stores: 'PUT /api/v1/inventories/stores',
      devices: 'PUT /api/v1/inventories/devices',
      employees: 'PUT /api/v1/inventories/employees',
      products: 'POST /api/v1/inventories/stores/:storeUuid/products',
      documents: 'PUT /api/v1/inventories/stores/:storeUuid/documents',
      receipts: 'POST /api/v2/receipts',
    })
  })

  it('credentials follow protocol §4.2 "Recommended acceptance"', () => {
    const byCredential = (credential: string) =>
      ROUTE_NAMES.filter((name) => EVOTOR_ROUTES[name].credential === credential)
    expect(byCredential('app')).toEqual(['userCreate', 'userVerify', 'userToken'])
    expect(byCredential('app-or-user')).toEqual(['commodities', 'subscriptionEvent', 'installationEvent'])
    expect(byCredential('user')).toEqual([
      'stores',
      'devices',
      'employees',
      'products',
      'documents',
      'receipts',
    ])
  })

  it('requests wait for a body; notifications answer an empty 200', () => {
    for (const name of ROUTE_NAMES) {
      const route = EVOTOR_ROUTES[name]
      if (route.kind === 'notification') expect(route.response).toBeUndefined()
    }
    expect(ROUTE_NAMES.filter((name) => EVOTOR_ROUTES[name].kind === 'request')).toEqual([
      'userCreate',
      'userVerify',
      'userToken',
      'commodities',
    ])
    expect(EVOTOR_ROUTES.commodities.source).toBe('query')
  })

  it('legacy paths are listed for opt-in aliases (§6.13, A45)', () => {
    const legacy = Object.fromEntries(
      ROUTE_NAMES.flatMap((name) => {
        const route: EvotorRouteDefinition = EVOTOR_ROUTES[name]
        return route.legacyPaths === undefined ? [] : [[name, route.legacyPaths]]
      }),
    )
    expect(legacy).toEqual({
      userCreate: ['/api/v1/create'],
      userVerify: ['/api/v1/verify'],
      subscriptionEvent: ['/api/v1/user/event'],
      receipts: ['/api/v1/receipt'],
    })
  })

  it('types: handler request/response types come from the schemas', () => {
    expectTypeOf<RouteName>().toEqualTypeOf<(typeof ROUTE_NAMES)[number]>()
    expectTypeOf<RouteRequest<'subscriptionEvent'>>().toEqualTypeOf<SubscriptionEvent>()
    expectTypeOf<RouteRequest<'products'>>().toEqualTypeOf<Product[]>()
    expectTypeOf<RouteRequest<'receipts'>>().toEqualTypeOf<ReceiptsV2>()
    expectTypeOf<RouteRequest<'commodities'>>().toEqualTypeOf<CommoditiesQuery>()
    expectTypeOf<RouteResponse<'userVerify'>>().toEqualTypeOf<UserVerifyResponse>()
    expectTypeOf<RouteResponse<'commodities'>>().toEqualTypeOf<Commodity>()
    expectTypeOf<RouteResponse<'stores'>>().toEqualTypeOf<void>()
    expectTypeOf<RouteResponse<'userToken'>>().toEqualTypeOf<void>()
    expectTypeOf<RouteParams<'documents'>>().toEqualTypeOf<{ storeUuid: string }>()
    expectTypeOf<RouteParams<'stores'>>().toEqualTypeOf<Record<never, never>>()
    // a verify handler that forgets hasBilling does not type-check
    expectTypeOf<{ userId: string; token: string }>().not.toExtend<RouteResponse<'userVerify'>>()
  })
})
