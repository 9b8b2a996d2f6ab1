import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { InstallationEventInput } from '../../src/repositories/index.js'
import { createDatabaseRevocations } from '../../src/revocations.js'
import { createTestDb, fixture, type TestDb } from '../helpers.js'

const USER = '01-000000000000001'
const OTHER = '01-000000000000002'

let t: TestDb
beforeEach(async () => {
  t = await createTestDb()
})
afterEach(async () => {
  await t.cleanup()
})

describe('accounts', () => {
  it('creates accounts with unique logins', async () => {
    const created = await t.repos.accounts.create({ login: ' И.Иванов ', passwordHash: 'h1' })
    expect(created.ok && created.account).toMatchObject({
      login: 'И.Иванов',
      passwordHash: 'h1',
      evotorUserId: null,
      hasBilling: false,
    })
    expect(await t.repos.accounts.create({ login: 'И.Иванов', passwordHash: 'h2' })).toEqual({
      ok: false,
      reason: 'login-taken',
    })
    expect((await t.repos.accounts.findByLogin('И.Иванов'))?.passwordHash).toBe('h1')
    await expect(t.repos.accounts.create({ login: '  ', passwordHash: 'h' })).rejects.toThrow(TypeError)
  })

  it('ensureForEvotorUser returns the same account for a retried user/create', async () => {
    const first = await t.repos.accounts.ensureForEvotorUser(USER, { customField: 'x' })
    const second = await t.repos.accounts.ensureForEvotorUser(USER, { customField: 'changed' })
    expect(first.created).toBe(true)
    expect(second.created).toBe(false)
    expect(second.account.id).toBe(first.account.id)
    expect(second.account.profile).toEqual({ customField: 'x' })
  })

  it('links on verify, refuses an account linked to another user, and moves the user link', async () => {
    const a = await t.repos.accounts.create({ login: 'a', passwordHash: 'h' })
    const b = await t.repos.accounts.create({ login: 'b', passwordHash: 'h' })
    if (!a.ok || !b.ok) throw new Error('setup')
    expect(await t.repos.accounts.linkToEvotorUser(a.account.id, USER)).toMatchObject({ outcome: 'linked' })
    expect(await t.repos.accounts.linkToEvotorUser(a.account.id, USER)).toMatchObject({
      outcome: 'already-linked',
    })
    expect(await t.repos.accounts.linkToEvotorUser(a.account.id, OTHER)).toEqual({
      outcome: 'linked-to-other-user',
    })
    const moved = await t.repos.accounts.linkToEvotorUser(b.account.id, USER)
    expect(moved).toMatchObject({ outcome: 'linked', previousAccountId: a.account.id })
    expect((await t.repos.accounts.findByEvotorUserId(USER))?.login).toBe('b')
    expect((await t.repos.accounts.findById(a.account.id))?.evotorUserId).toBeNull()
    expect(await t.repos.accounts.linkToEvotorUser(999, USER)).toEqual({ outcome: 'not-found' })
  })
})

describe('userTokens', () => {
  it('keeps one active token per user: a retried create gets the same token (§11 A56)', async () => {
    const first = await t.repos.userTokens.saveIfNoneActive(USER, 'token-one')
    const retry = await t.repos.userTokens.saveIfNoneActive(USER, 'token-two')
    expect(first).toMatchObject({
      created: true,
      token: { token: 'token-one', userId: USER, revokedAt: null },
    })
    expect(retry).toMatchObject({ created: false, token: { token: 'token-one' } })
    expect(await t.repos.userTokens.lookup('token-two')).toBeUndefined()
    expect((await t.repos.userTokens.lookup('token-one'))?.userId).toBe(USER)
  })

  it('revokes and then issues a fresh token', async () => {
    await t.repos.userTokens.saveIfNoneActive(USER, 'old')
    t.clock.advance(1000)
    expect(await t.repos.userTokens.revokeAll(USER)).toBe(1)
    expect(await t.repos.userTokens.lookup('old')).toBeUndefined()
    expect(await t.repos.userTokens.findActive(USER)).toBeUndefined()
    expect((await t.repos.userTokens.saveIfNoneActive(USER, 'new')).created).toBe(true)
    expect((await t.repos.userTokens.lookup('new'))?.userId).toBe(USER)
  })
})

describe('evotorTokens', () => {
  it('upserts per user, latest wins', async () => {
    expect(await t.repos.evotorTokens.save(USER, 'f46b89a5-8e80-4591-b0aa-94551790444b')).toBe(true)
    expect(await t.repos.evotorTokens.save(USER, 'f46b89a5-8e80-4591-b0aa-94551790444b')).toBe(false)
    t.clock.advance(5000)
    expect(await t.repos.evotorTokens.save(USER, 'second')).toBe(true)
    expect(await t.repos.evotorTokens.get(USER)).toEqual({
      userId: USER,
      token: 'second',
      updatedAt: '2024-05-01T10:00:05.000Z',
    })
    expect(await t.repos.evotorTokens.get(OTHER)).toBeUndefined()
  })
})

describe('installations', () => {
  const installed = fixture<InstallationEventInput>(
    'assembled/partner_v2_installation_event.POST.request.ApplicationInstalled.json',
  )
  const uninstalled: InstallationEventInput = {
    ...fixture<InstallationEventInput>(
      'assembled/partner_v2_installation_event.POST.request.ApplicationUninstalled.json',
    ),
    id: 'b99fbf70-6307-4acc-b61c-741ee9eef6c0',
    timestamp: 1504168700000,
  }

  it('marks installed, then uninstalled, and leaves the tokens to the revocation store', async () => {
    // Handed out before the uninstall happened (the fixture's events are of 2017-08-31).
    t.clock.set('2017-08-31T08:30:00.000Z')
    await t.repos.userTokens.saveIfNoneActive(USER, 'user-token')
    const first = await t.repos.installations.applyEvent(USER, installed)
    expect(first).toMatchObject({
      duplicate: false,
      applied: true,
      installation: { installed: true, userId: USER },
    })
    expect(await t.repos.installations.isInstalled(USER)).toBe(true)
    expect(await t.repos.userTokens.lookup('user-token')).toBeDefined()
    const second = await t.repos.installations.applyEvent(USER, uninstalled)
    expect(second).toMatchObject({ applied: true, installation: { installed: false } })
    expect(second.installation?.uninstalledAt).toBe('2017-08-31T08:38:20.000Z')
    expect(await t.repos.installations.isInstalled(USER)).toBe(false)
    // The library's dispatcher revoked it before the handler ran (createDatabaseRevocations).
    expect(await t.repos.userTokens.lookup('user-token')).toBeDefined()
  })

  it('a late uninstall revokes only tokens handed out before it happened (§4.6)', async () => {
    // As the dispatcher does on ApplicationUninstalled: the store, marked at the event's timestamp.
    const revocations = createDatabaseRevocations({ data: t.db, now: t.clock.now })
    t.clock.set('2017-08-31T08:30:00.000Z')
    await t.repos.userTokens.saveIfNoneActive(USER, 'user-token')
    // The user uninstalls at 08:38:20 but the delivery is late; the reinstall's user/create
    // (08:40) gets the still-active token back.
    t.clock.set('2017-08-31T08:40:00.000Z')
    expect((await t.repos.userTokens.deliverActive(USER))?.deliveredAt).toBe('2017-08-31T08:40:00.000Z')
    t.clock.set('2017-08-31T09:00:00.000Z')
    await revocations.revokeUser(USER, new Date(uninstalled.timestamp as number))
    expect((await t.repos.installations.applyEvent(USER, uninstalled)).applied).toBe(true)
    expect((await t.repos.userTokens.lookup('user-token'))?.userId).toBe(USER)
    // Handed out again by a retried create is just as protected.
    expect((await t.repos.userTokens.saveIfNoneActive(USER, 'other')).token.deliveredAt).toBe(
      '2017-08-31T09:00:00.000Z',
    )
    // A later uninstall does revoke it.
    await revocations.revokeUser(USER, new Date('2017-08-31T09:30:00Z'))
    expect(await t.repos.userTokens.lookup('user-token')).toBeUndefined()
  })

  it('ignores duplicates and events older than the last applied one', async () => {
    expect((await t.repos.installations.applyEvent(USER, uninstalled)).applied).toBe(true)
    expect(await t.repos.installations.applyEvent(USER, uninstalled)).toMatchObject({
      duplicate: true,
      applied: false,
    })
    const late = await t.repos.installations.applyEvent(USER, installed)
    expect(late).toMatchObject({ duplicate: false, applied: false, installation: { installed: false } })
    await t.reopen()
    expect((await t.repos.installations.applyEvent(USER, installed)).duplicate).toBe(true)
    expect((await t.repos.installations.get(USER, '1eaca77f-1579-5078-a123-83c892348acd'))?.installed).toBe(
      false,
    )
  })
})
