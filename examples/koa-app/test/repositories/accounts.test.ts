import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { InstallationEventInput } from '../../src/repositories/index.js'
import { createTestDb, fixture, type TestDb } from '../helpers.js'

const USER = '01-000000000000001'
const OTHER = '01-000000000000002'

let t: TestDb
beforeEach(() => {
  t = createTestDb()
})
afterEach(() => t.cleanup())

describe('accounts', () => {
  it('creates accounts with unique logins', () => {
    const created = t.repos.accounts.create({ login: ' И.Иванов ', passwordHash: 'h1' })
    expect(created.ok && created.account).toMatchObject({
      login: 'И.Иванов',
      passwordHash: 'h1',
      evotorUserId: null,
      hasBilling: false,
    })
    expect(t.repos.accounts.create({ login: 'И.Иванов', passwordHash: 'h2' })).toEqual({
      ok: false,
      reason: 'login-taken',
    })
    expect(t.repos.accounts.findByLogin('И.Иванов')?.passwordHash).toBe('h1')
    expect(() => t.repos.accounts.create({ login: '  ', passwordHash: 'h' })).toThrow(TypeError)
  })

  it('ensureForEvotorUser returns the same account for a retried user/create', () => {
    const first = t.repos.accounts.ensureForEvotorUser(USER, { customField: 'x' })
    const second = t.repos.accounts.ensureForEvotorUser(USER, { customField: 'changed' })
    expect(first.created).toBe(true)
    expect(second.created).toBe(false)
    expect(second.account.id).toBe(first.account.id)
    expect(second.account.profile).toEqual({ customField: 'x' })
  })

  it('links on verify, refuses an account linked to another user, and moves the user link', () => {
    const a = t.repos.accounts.create({ login: 'a', passwordHash: 'h' })
    const b = t.repos.accounts.create({ login: 'b', passwordHash: 'h' })
    if (!a.ok || !b.ok) throw new Error('setup')
    expect(t.repos.accounts.linkToEvotorUser(a.account.id, USER)).toMatchObject({ outcome: 'linked' })
    expect(t.repos.accounts.linkToEvotorUser(a.account.id, USER)).toMatchObject({ outcome: 'already-linked' })
    expect(t.repos.accounts.linkToEvotorUser(a.account.id, OTHER)).toEqual({
      outcome: 'linked-to-other-user',
    })
    const moved = t.repos.accounts.linkToEvotorUser(b.account.id, USER)
    expect(moved).toMatchObject({ outcome: 'linked', previousAccountId: a.account.id })
    expect(t.repos.accounts.findByEvotorUserId(USER)?.login).toBe('b')
    expect(t.repos.accounts.findById(a.account.id)?.evotorUserId).toBeNull()
    expect(t.repos.accounts.linkToEvotorUser(999, USER)).toEqual({ outcome: 'not-found' })
  })
})

describe('userTokens', () => {
  it('keeps one active token per user: a retried create gets the same token (§11 A56)', () => {
    const first = t.repos.userTokens.saveIfNoneActive(USER, 'token-one')
    const retry = t.repos.userTokens.saveIfNoneActive(USER, 'token-two')
    expect(first).toMatchObject({
      created: true,
      token: { token: 'token-one', userId: USER, revokedAt: null },
    })
    expect(retry).toMatchObject({ created: false, token: { token: 'token-one' } })
    expect(t.repos.userTokens.lookup('token-two')).toBeUndefined()
    expect(t.repos.userTokens.lookup('token-one')?.userId).toBe(USER)
  })

  it('revokes and then issues a fresh token', () => {
    t.repos.userTokens.saveIfNoneActive(USER, 'old')
    t.clock.advance(1000)
    expect(t.repos.userTokens.revokeAll(USER)).toBe(1)
    expect(t.repos.userTokens.lookup('old')).toBeUndefined()
    expect(t.repos.userTokens.findActive(USER)).toBeUndefined()
    expect(t.repos.userTokens.saveIfNoneActive(USER, 'new').created).toBe(true)
    expect(t.repos.userTokens.lookup('new')?.userId).toBe(USER)
  })
})

describe('evotorTokens', () => {
  it('upserts per user, latest wins', () => {
    expect(t.repos.evotorTokens.save(USER, 'f46b89a5-8e80-4591-b0aa-94551790444b')).toBe(true)
    expect(t.repos.evotorTokens.save(USER, 'f46b89a5-8e80-4591-b0aa-94551790444b')).toBe(false)
    t.clock.advance(5000)
    expect(t.repos.evotorTokens.save(USER, 'second')).toBe(true)
    expect(t.repos.evotorTokens.get(USER)).toEqual({
      userId: USER,
      token: 'second',
      updatedAt: '2024-05-01T10:00:05.000Z',
    })
    expect(t.repos.evotorTokens.get(OTHER)).toBeUndefined()
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

  it('marks installed, then uninstalled with the user tokens revoked in the same step', () => {
    // Handed out before the uninstall happened (the fixture's events are of 2017-08-31).
    t.clock.set('2017-08-31T08:30:00.000Z')
    t.repos.userTokens.saveIfNoneActive(USER, 'user-token')
    const first = t.repos.installations.applyEvent(USER, installed)
    expect(first).toMatchObject({
      duplicate: false,
      applied: true,
      revokedTokens: 0,
      installation: { installed: true, userId: USER },
    })
    expect(t.repos.installations.isInstalled(USER)).toBe(true)
    expect(t.repos.userTokens.lookup('user-token')).toBeDefined()
    const second = t.repos.installations.applyEvent(USER, uninstalled)
    expect(second).toMatchObject({ applied: true, revokedTokens: 1, installation: { installed: false } })
    expect(second.installation?.uninstalledAt).toBe('2017-08-31T08:38:20.000Z')
    expect(t.repos.installations.isInstalled(USER)).toBe(false)
    expect(t.repos.userTokens.lookup('user-token')).toBeUndefined()
  })

  it('a late uninstall revokes only tokens handed out before it happened (§4.6)', () => {
    t.clock.set('2017-08-31T08:30:00.000Z')
    t.repos.userTokens.saveIfNoneActive(USER, 'user-token')
    // The user uninstalls at 08:38:20 but the delivery is late; the reinstall's user/create
    // (08:40) gets the still-active token back.
    t.clock.set('2017-08-31T08:40:00.000Z')
    expect(t.repos.userTokens.deliverActive(USER)?.deliveredAt).toBe('2017-08-31T08:40:00.000Z')
    t.clock.set('2017-08-31T09:00:00.000Z')
    expect(t.repos.installations.applyEvent(USER, uninstalled)).toMatchObject({
      applied: true,
      revokedTokens: 0,
    })
    expect(t.repos.userTokens.lookup('user-token')?.userId).toBe(USER)
    // Handed out again by a retried create is just as protected.
    expect(t.repos.userTokens.saveIfNoneActive(USER, 'other').token.deliveredAt).toBe(
      '2017-08-31T09:00:00.000Z',
    )
    // A later uninstall does revoke it.
    const later = {
      ...uninstalled,
      id: 'c99fbf70-6307-4acc-b61c-741ee9eef6c0',
      timestamp: Date.parse('2017-08-31T09:30:00Z'),
    }
    expect(t.repos.installations.applyEvent(USER, later)).toMatchObject({ applied: true, revokedTokens: 1 })
    expect(t.repos.userTokens.lookup('user-token')).toBeUndefined()
  })

  it('an uninstall without a timestamp revokes every token handed out until now', () => {
    t.repos.userTokens.saveIfNoneActive(USER, 'user-token')
    t.clock.advance(1000)
    const { timestamp: _omitted, ...undated } = { ...uninstalled, id: 'd99fbf70-6307-4acc-b61c-741ee9eef6c0' }
    expect(t.repos.installations.applyEvent(USER, undated)).toMatchObject({ applied: true, revokedTokens: 1 })
    expect(t.repos.userTokens.lookup('user-token')).toBeUndefined()
  })

  it('ignores duplicates and events older than the last applied one', () => {
    expect(t.repos.installations.applyEvent(USER, uninstalled).applied).toBe(true)
    expect(t.repos.installations.applyEvent(USER, uninstalled)).toMatchObject({
      duplicate: true,
      applied: false,
    })
    const late = t.repos.installations.applyEvent(USER, installed)
    expect(late).toMatchObject({ duplicate: false, applied: false, installation: { installed: false } })
    t.reopen()
    expect(t.repos.installations.applyEvent(USER, installed).duplicate).toBe(true)
    expect(t.repos.installations.get(USER, '1eaca77f-1579-5078-a123-83c892348acd')?.installed).toBe(false)
  })
})
