import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openDatabase } from '../src/db.js'
import { createSqliteIdempotencyStore, createSqliteSequenceStore } from '../src/sqlite-stores.js'
import { createTestDb, type TestDb } from './helpers.js'

const DAY = 24 * 60 * 60 * 1000

let t: TestDb
beforeEach(async () => {
  t = await createTestDb()
})
afterEach(async () => {
  await t.cleanup()
})

describe('createSqliteIdempotencyStore', () => {
  it('claims once; a live lease is in-progress; completion makes it done', () => {
    const store = createSqliteIdempotencyStore({ db: t.db.sqliteFile, now: t.clock.now })
    expect(store.claim('k', 30_000)).toBe('claimed')
    expect(store.claim('k', 30_000)).toBe('in-progress')
    store.complete('k')
    expect(store.claim('k', 30_000)).toBe('done')
  })

  it('re-claims after the lease expires or after release', () => {
    const store = createSqliteIdempotencyStore({ db: t.db.sqliteFile, now: t.clock.now })
    expect(store.claim('k', 1000)).toBe('claimed')
    t.clock.advance(999)
    expect(store.claim('k', 1000)).toBe('in-progress')
    t.clock.advance(1)
    expect(store.claim('k', 1000)).toBe('claimed')
    store.release('k')
    expect(store.claim('k', 1000)).toBe('claimed')
    store.complete('k')
    store.release('k')
    expect(store.claim('k', 1000)).toBe('done')
  })

  it('is atomic across two connections to the same file: exactly one claim wins', () => {
    const second = openDatabase({ path: t.path })
    try {
      const a = createSqliteIdempotencyStore({ db: t.db.sqliteFile, now: t.clock.now })
      const b = createSqliteIdempotencyStore({ db: second.sqlite, now: t.clock.now })
      const results = Array.from({ length: 20 }, (_, i) => [a, b][i % 2]?.claim('shared', 60_000))
      expect(results.filter((r) => r === 'claimed')).toHaveLength(1)
      expect(results.filter((r) => r === 'in-progress')).toHaveLength(19)
      b.complete('shared')
      expect(a.claim('shared', 60_000)).toBe('done')
    } finally {
      second.close()
    }
  })

  it('keeps done keys across a restart and prunes them after the retention', () => {
    const before = createSqliteIdempotencyStore({ db: t.db.sqliteFile, now: t.clock.now })
    before.claim('event-1', 1000)
    before.complete('event-1')
    before.claim('abandoned', 1000)
    t.reopen()
    const after = createSqliteIdempotencyStore({ db: t.db.sqliteFile, now: t.clock.now })
    expect(after.claim('event-1', 1000)).toBe('done')
    t.clock.advance(7 * DAY - 1)
    expect(after.prune()).toBe(0)
    t.clock.advance(2)
    expect(after.prune()).toBe(1)
    expect(after.claim('event-1', 1000)).toBe('claimed')
    t.clock.advance(1000)
    expect(after.prune()).toBe(1) // the claim abandoned by a crash, 7 days after its lease ended
  })

  it('prunes automatically from claim at most once per interval', () => {
    const store = createSqliteIdempotencyStore({
      db: t.db.sqliteFile,
      now: t.clock.now,
      retentionMs: 1000,
      pruneIntervalMs: 5000,
    })
    store.claim('old', 10)
    store.complete('old')
    t.clock.advance(2000)
    store.claim('x', 10)
    expect(store.claim('old', 10)).toBe('done')
    t.clock.advance(3000)
    store.claim('y', 10)
    expect(store.claim('old', 10)).toBe('claimed')
  })

  it('validates options and arguments', () => {
    expect(() => createSqliteIdempotencyStore({ db: t.db.sqliteFile, retentionMs: 0 })).toThrow(/retentionMs/)
    const store = createSqliteIdempotencyStore({ db: t.db.sqliteFile })
    expect(() => store.claim('', 1000)).toThrow(TypeError)
    expect(() => store.claim('k', 0)).toThrow(/leaseMs/)
  })
})

describe('createSqliteSequenceStore', () => {
  it('stores the last handled number, never lowers it, and survives a restart', () => {
    const store = createSqliteSequenceStore({ db: t.db.sqliteFile })
    expect(store.getLastHandled('s')).toBeUndefined()
    store.setLastHandled('s', 3)
    store.setLastHandled('s', 2)
    expect(store.getLastHandled('s')).toBe(3)
    store.setLastHandled('s', 5)
    store.setLastHandled('other', 1)
    t.reopen()
    const reopened = createSqliteSequenceStore({ db: t.db.sqliteFile })
    expect(reopened.getLastHandled('s')).toBe(5)
    expect(reopened.getLastHandled('other')).toBe(1)
    expect(() => reopened.setLastHandled('s', 1.5)).toThrow(TypeError)
  })
})
