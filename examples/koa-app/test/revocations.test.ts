import { createUserTokenLookup } from 'evotor-partner'
import { afterAll, describe, expect, it } from 'vitest'
import { type AppDb, openAppDb } from '../src/database/index.js'
import { createRepositories } from '../src/repositories/index.js'
import { createDatabaseRevocations } from '../src/revocations.js'
import { createTempDir } from './helpers.js'
import { createTestDatabase, dropTestDatabases } from './support/postgres.js'

// The example keeps revocations in its database through the library's RevocationStore interface.
const dir = createTempDir()
afterAll(async () => {
  dir.cleanup()
  await dropTestDatabases()
})

const databases: Record<'sqlite' | 'postgres', () => Promise<AppDb>> = {
  sqlite: () => openAppDb({ path: dir.file(`revocations-${Math.random().toString(36).slice(2)}.sqlite`) }),
  postgres: async () => openAppDb({ url: await createTestDatabase() }),
}

describe.each(['sqlite', 'postgres'] as const)('createDatabaseRevocations on %s', (kind) => {
  it('raises the mark atomically (never lowers it) and flags the tokens handed out up to it', async () => {
    const data = await databases[kind]()
    try {
      let clock = new Date('2026-05-01T10:00:00.000Z')
      const now = () => clock
      const repos = createRepositories({ data, now })
      const store = createDatabaseRevocations({ data, now })
      const userId = '01-000000000000001'
      const other = '01-000000000000002'
      await repos.userTokens.saveIfNoneActive(userId, 'token-before-uninstall')
      await repos.userTokens.saveIfNoneActive(other, 'token-of-another-user')
      const verifier = createUserTokenLookup({
        lookup: async (token) => (await repos.userTokens.lookup(token))?.userId,
        revocations: store,
      })
      expect(await verifier.verify('token-before-uninstall')).toEqual({ userId })
      expect(await store.revokedBefore(userId)).toBeUndefined()

      const mark = new Date(clock.getTime() + 1000)
      clock = new Date(clock.getTime() + 5000)
      // Concurrent revocations with different marks, and a late, older one: the latest mark wins.
      await Promise.all([
        store.revokeUser(userId, mark),
        store.revokeUser(userId, new Date(mark.getTime() - 500)),
        store.revokeUser(userId, new Date(mark.getTime() - 60_000)),
      ])
      expect(await store.revokedBefore(userId)).toEqual(mark)
      // attach() (done by createUserTokenLookup) dropped the cached verification: refused at once.
      await expect(verifier.verify('token-before-uninstall')).rejects.toMatchObject({ code: 1002 })
      expect(await verifier.verify('token-of-another-user')).toEqual({ userId: other })
      expect(await store.revokedBefore(other)).toBeUndefined()

      // The reinstall's token (handed out after the mark) stays valid.
      const { token } = await repos.userTokens.saveIfNoneActive(userId, 'token-after-reinstall')
      expect(token.token).toBe('token-after-reinstall')
      expect(await verifier.verify('token-after-reinstall')).toEqual({ userId })
      await store.revokeUser(userId, new Date(mark.getTime() - 1))
      expect(await verifier.verify('token-after-reinstall')).toEqual({ userId })
      expect(await store.revokedBefore(userId)).toEqual(mark)
    } finally {
      await data.close()
    }
  })
})
