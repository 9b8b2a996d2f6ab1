import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createUserTokens, type UserTokens } from '../../src/core/auth/user-tokens.js'
import { createEvotorProxy } from '../../src/core/proxy.js'
import { createEvotorWebhooks } from '../../src/core/webhooks.js'
import { HARNESSES, type Harness, type Started } from './helpers/harness.js'

// Issue 14 "Revocation built in": an ApplicationUninstalled delivered over real HTTP through each
// adapter refuses the user's token on the proxy at once, with no revocation code in the service.
const USER_A = '01-000000000000001'
const USER_B = '01-000000000000002'
const STORE = '20170228-F4F1-401B-80FA-9ECCA8451FFB'
const DEVICE = '20170222-D58C-40E0-8051-B53ADFF38860'
const APP_TOKEN = 'app-secret-0123456789-uninstall'
const APP = { authorization: `Bearer ${APP_TOKEN}`, 'content-type': 'application/json' }

describe.each(HARNESSES)(
  '$name adapter: ApplicationUninstalled revokes with no handler code',
  (harness: Harness) => {
    let tokens: UserTokens
    let webhooks: Started
    let proxy: Started
    const warnings: string[] = []

    beforeAll(async () => {
      tokens = createUserTokens({ secret: 'a-test-secret-that-is-at-least-32-bytes-long' })
      const dispatcher = createEvotorWebhooks({
        appCredential: { bearer: [APP_TOKEN] },
        userTokens: tokens,
        // The service's only code: issuing tokens. No installationEvent handler, no isRevoked.
        handlers: {
          userCreate: async ({ body }) => ({ userId: body.userId, token: await tokens.issue(body.userId) }),
        },
        logger: {
          warn: (message) => void warnings.push(message),
          error: (message) => void warnings.push(message),
        },
      })
      webhooks = await harness.webhooks(dispatcher)
      proxy = await harness.proxy(createEvotorProxy({ userTokens: tokens }))
    })
    afterAll(async () => {
      await webhooks.close()
      await proxy.close()
    })

    const create = async (userId: string): Promise<string> => {
      const response = await fetch(`${webhooks.url}/api/v1/user/create`, {
        method: 'POST',
        headers: APP,
        body: JSON.stringify({ userId }),
      })
      expect(response.status).toBe(200)
      return ((await response.json()) as { token: string }).token
    }
    const terminal = (userId: string, token: string) =>
      fetch(`${proxy.url}/api/json`, {
        headers: {
          authorization: `Bearer ${token}`,
          'x-evotor-store-uuid': STORE,
          'x-evotor-device-uuid': DEVICE,
          'x-evotor-user-id': userId,
        },
      })
    const uninstall = (userId: string) =>
      fetch(`${webhooks.url}/api/v2/installation/event`, {
        method: 'POST',
        headers: APP,
        body: JSON.stringify({
          id: `b3f6c1de-0a6e-4c55-9f3a-${userId.slice(-12)}`,
          timestamp: Date.now(),
          version: 2,
          type: 'ApplicationUninstalled',
          data: { productId: 'c0d01x35-5193-4cc2-9bfb-be20e0679498', userId },
        }),
      })

    it('refuses the token on the proxy right after the uninstall, and accepts the reinstall token', async () => {
      const tokenA = await create(USER_A)
      const tokenB = await create(USER_B)
      expect((await terminal(USER_A, tokenA)).status).toBe(200) // now cached by the verifier
      expect((await terminal(USER_B, tokenB)).status).toBe(200)

      const answer = await uninstall(USER_A)
      expect(answer.status).toBe(200)
      expect(await answer.text()).toBe('')

      const refused = await terminal(USER_A, tokenA)
      expect(refused.status).toBe(401)
      expect(await refused.json()).toEqual({ errors: [expect.objectContaining({ code: 1002 })] })
      expect((await terminal(USER_B, tokenB)).status).toBe(200) // another user is untouched

      const reinstalled = await create(USER_A)
      expect(reinstalled).not.toBe(tokenA)
      expect((await terminal(USER_A, reinstalled)).status).toBe(200)
      // The un-handled installation route was reported once, with the revocation it still does.
      expect(warnings.filter((w) => w.includes('no handler for installationEvent'))).toHaveLength(1)
    })
  },
)
