import { setTimeout as sleep } from 'node:timers/promises'
import { buildInstallationEvent, randomEvotorUuid, randomUserId } from 'evotor-partner/testing'
import { sql } from 'kysely'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { TempDir } from '../helpers.js'
import { appAuth, call, createTestDir, errorCode, proxied, startTestApp, type TestApp } from './harness.js'

describe.each([2, 1] as const)(
  'a delayed uninstall after a reinstall (proxy ver. %i, protocol §4.6)',
  (proxyVersion) => {
    let dir: TempDir
    let t: TestApp
    beforeEach(async () => {
      dir = createTestDir()
      t = await startTestApp(dir, { proxyVersion })
    })
    afterEach(async () => {
      await t.close()
      dir.cleanup()
    })

    const install = (
      type: 'ApplicationInstalled' | 'ApplicationUninstalled',
      userId: string,
      timestamp: number | string,
    ) =>
      call(t.url, 'POST', '/api/v2/installation/event', {
        auth: appAuth,
        body: { ...buildInstallationEvent(type, { userId }), timestamp },
      })

    it('leaves the token Evotor got on the reinstall active; a later uninstall still revokes it at once', async () => {
      const userId = randomUserId()
      const terminal = { userId, storeUuid: randomEvotorUuid(), deviceUuid: randomEvotorUuid() }
      expect((await install('ApplicationInstalled', userId, Date.now() - 60_000)).status).toBe(200)
      const first = await call(t.url, 'POST', '/api/v1/user/create', { auth: appAuth, body: { userId } })
      const { token } = first.json as { token: string }
      expect((await proxied(t.url, '/trpc/whoami', { ...terminal, token }, proxyVersion)).status).toBe(200)

      // The user uninstalls now; the delivery is delayed past the reinstall.
      await sleep(20)
      const uninstalledAt = Date.now()
      await sleep(20)
      // The reinstall: Evotor calls user/create and gets the still-active token.
      const again = await call(t.url, 'POST', '/api/v1/user/create', { auth: appAuth, body: { userId } })
      expect((again.json as { token: string }).token).toBe(token)

      // The late uninstall (its timestamp as a numeric string) must not lock Evotor out.
      expect((await install('ApplicationUninstalled', userId, String(uninstalledAt))).status).toBe(200)
      const afterLate = await proxied(t.url, '/trpc/whoami', { ...terminal, token }, proxyVersion)
      expect(afterLate.status).toBe(200)
      expect(t.logs).toContainEqual(
        expect.objectContaining({ msg: 'installation event applied', userId, applied: true }),
      )

      // A normal uninstall, after the token was handed out, revokes it at once.
      expect((await install('ApplicationUninstalled', userId, Date.now() + 1000)).status).toBe(200)
      const afterUninstall = await proxied(t.url, '/trpc/whoami', { ...terminal, token }, proxyVersion)
      expect(afterUninstall.status).toBe(401)
      expect(errorCode(afterUninstall)).toBe(1002)
    })
  },
)

describe('proxy errors are logged', () => {
  let dir: TempDir
  let t: TestApp
  beforeEach(async () => {
    dir = createTestDir()
    t = await startTestApp(dir)
  })
  afterEach(async () => {
    await t.close()
    dir.cleanup()
  })

  it('a failing token lookup answers 500 and writes an error line without the token', async () => {
    const userId = randomUserId()
    const created = await call(t.url, 'POST', '/api/v1/user/create', { auth: appAuth, body: { userId } })
    const { token } = created.json as { token: string }
    await sql`DROP TABLE user_tokens`.execute(t.server.data.db)
    const answer = await proxied(t.url, '/trpc/whoami', {
      userId,
      storeUuid: randomEvotorUuid(),
      deviceUuid: randomEvotorUuid(),
      token,
    })
    expect(answer.status).toBe(500)
    const errors = t.logs.filter((l) => l.level === 'error')
    expect(errors).toContainEqual(
      expect.objectContaining({
        msg: 'evotor-partner: proxied request failed',
        error: expect.stringMatching(/user_tokens/),
      }),
    )
    expect(JSON.stringify(t.logs)).not.toContain(token)
  })
})
