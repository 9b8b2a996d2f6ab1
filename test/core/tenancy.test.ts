import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createUserTokens } from '../../src/core/auth/user-tokens.js'
import { createEvotorWebhooks } from '../../src/core/webhooks.js'

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../fixtures/assembled/${name}`, import.meta.url), 'utf8'))

const USERS = ['01-000000000000001', '01-000000000000002', '01-000000000000003'] as const
const tokens = createUserTokens({ secret: 'property-tenancy-secret-0123456789abcdefgh' })

const ROUTES = {
  subscriptionEvent: {
    path: '/api/v1/subscription/event',
    body: fixture('partner_v1_subscription_event.POST.request.SubscriptionRenewed.json'),
  },
  installationEvent: {
    path: '/api/v2/installation/event',
    body: fixture('partner_v2_installation_event.POST.request.ApplicationInstalled.json'),
  },
  receipts: { path: '/api/v2/receipts', body: fixture('partner_v2_receipts.POST.request.json') },
} as const

/** A user id at a documented place, or nothing there. */
const place = fc.option(fc.constantFrom(...USERS), { nil: undefined })

function withUsers(
  base: Record<string, unknown>,
  top: string | undefined,
  data: string | undefined,
): Record<string, unknown> {
  const body: Record<string, unknown> = { ...base, data: { ...(base.data as object) } }
  delete body.userId
  delete (body.data as Record<string, unknown>).userId
  if (top !== undefined) body.userId = top
  if (data !== undefined) (body.data as Record<string, unknown>).userId = data
  return body
}

describe('one user per request (property)', () => {
  it('reaches a handler only when every user id the body names is the token user', async () => {
    const reached: string[] = []
    const record = ({ userId }: { userId: string | undefined }) => {
      reached.push(userId ?? '')
    }
    const webhooks = createEvotorWebhooks({
      appCredential: { bearer: ['property-app-token-0123456789'] },
      userTokens: tokens,
      idempotency: false,
      ordering: false,
      handlers: {
        subscriptionEvent: record,
        installationEvent: record,
        receipts: record,
        unknownEvent: record,
      },
    })
    const issued = new Map<string, string>()
    for (const user of USERS) issued.set(user, await tokens.issue(user))

    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...(Object.keys(ROUTES) as Array<keyof typeof ROUTES>)),
        fc.constantFrom(...USERS),
        fc.array(fc.tuple(place, place), { minLength: 1, maxLength: 3 }),
        async (route, tokenUser, items) => {
          const { path, body: base } = ROUTES[route]
          const bodies = items.map(([top, data]) => withUsers(base, top, data))
          // Receipts may come as an array; events are one object.
          const body = route === 'receipts' && bodies.length > 1 ? bodies : bodies[0]
          const named = (route === 'receipts' ? items : items.slice(0, 1))
            .flat()
            .filter((u) => u !== undefined)
          const before = reached.length
          const res = await webhooks.handle({
            method: 'POST',
            path,
            headers: { authorization: `Bearer ${issued.get(tokenUser)}` },
            body: JSON.stringify(body),
          })
          const allMine = named.every((u) => u === tokenUser)
          expect(reached.length > before).toBe(allMine)
          if (allMine) {
            expect(res.status).toBe(200)
            expect(reached.at(-1)).toBe(tokenUser)
          } else {
            expect(res.status).toBe(401)
            expect(JSON.parse(res.body)).toEqual({ errors: [{ code: 1002 }] })
          }
        },
      ),
      { numRuns: 300 },
    )
  })
})
