import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openAppDb } from '../src/database/index.js'
import { openDatabase } from '../src/db.js'
import { MIGRATIONS } from '../src/migrations.js'
import { createRepositories } from '../src/repositories/index.js'
import { createTempDir, type TempDir } from './helpers.js'

const USER = '01-000000000000001'

let dir: TempDir
beforeEach(() => {
  dir = createTempDir()
})
afterEach(() => dir.cleanup())

describe('an install at the schema before Kysely', () => {
  it('is taken over by the Kysely migrator in place: rows kept, exact amounts, the Kysely migrations recorded', async () => {
    const path = dir.file('app.sqlite')
    // The database as the previous version left it: numbered steps only, no Kysely tables.
    const before = openDatabase({ path })
    expect(before.version).toBe(MIGRATIONS.length)
    before.sqlite
      .prepare(
        `INSERT INTO receipts (user_id, id, event_id, store_id, device_id, type, date_time, total_amount, raw, received_at)
         VALUES (?, 'R-1', 'E-1', 'S-1', 'D-1', 'SELL', '2026-12-01T10:00:00.000Z', '12345678901234567890.123456789', '{}', '2026-12-01T10:00:01.000Z')`,
      )
      .run(USER)
    before.sqlite
      .prepare("INSERT INTO settings (key, value, updated_at) VALUES ('k', 'v', '2026-12-01T00:00:00.000Z')")
      .run()
    const tables = before.sqlite
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'kysely%'")
      .all()
    expect(tables).toEqual([])
    before.close()

    const data = await openAppDb({ path })
    try {
      const repos = createRepositories({ data })
      expect(await repos.receipts.get(USER, 'r-1')).toMatchObject({
        id: 'R-1',
        totalAmount: '12345678901234567890.123456789',
      })
      expect(await repos.settings.get('k')).toBe('v')
      const summary = await repos.receipts.storeSummary(
        USER,
        's-1',
        new Date('2026-12-01T00:00:00.000Z'),
        new Date('2026-12-02T00:00:00.000Z'),
      )
      expect(summary).toEqual({ count: 1, total: '12345678901234567890.123456789' })
      const migrations = await data.db
        .selectFrom('kysely_migration' as never)
        .select('name' as never)
        .execute()
      expect(migrations).toEqual([
        { name: '0001_base_schema' },
        { name: '0002_token_revocations' },
        { name: '0003_running_totals' },
      ])
      expect(data.sqliteFile.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length)
    } finally {
      await data.close()
    }
    // Opening again applies nothing twice.
    const again = await openAppDb({ path })
    try {
      expect(await createRepositories({ data: again }).receipts.get(USER, 'R-1')).toBeDefined()
    } finally {
      await again.close()
    }
  })
})
