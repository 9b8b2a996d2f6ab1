import { existsSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase } from '../src/db.js'
import { MIGRATIONS } from '../src/migrations.js'
import { createTempDir, type TempDir } from './helpers.js'

let dir: TempDir | undefined
afterEach(() => dir?.cleanup())

describe('openDatabase', () => {
  it('creates the parent directory, enables WAL, foreign keys and a busy timeout, and migrates', async () => {
    dir = createTempDir()
    const path = dir.file('a/b/app.sqlite')
    const db = openDatabase({ path, busyTimeoutMs: 1234 })
    expect(existsSync(path)).toBe(true)
    expect(db.sqlite.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(db.sqlite.pragma('foreign_keys', { simple: true })).toBe(1)
    expect(db.sqlite.pragma('busy_timeout', { simple: true })).toBe(1234)
    expect(db.version).toBe(MIGRATIONS.length)
    db.close()
    db.close()
    expect(db.sqlite.open).toBe(false)
  })

  it('is idempotent on restart and applies only new migrations', async () => {
    dir = createTempDir()
    const path = dir.file('app.sqlite')
    openDatabase({ path, migrations: ['CREATE TABLE t1 (x INTEGER)'] }).close()
    const db = openDatabase({
      path,
      migrations: ['CREATE TABLE t1 (x INTEGER)', 'CREATE TABLE t2 (y INTEGER)'],
    })
    expect(db.version).toBe(2)
    const tables = db.sqlite
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .pluck()
      .all()
    expect(tables).toEqual(['t1', 't2'])
    db.close()
  })

  it('rolls a failing migration back completely', async () => {
    dir = createTempDir()
    const path = dir.file('app.sqlite')
    expect(() =>
      openDatabase({ path, migrations: ['CREATE TABLE ok (x INTEGER); CREATE TABLE broken ('] }),
    ).toThrow()
    const db = openDatabase({ path, migrations: [] })
    expect(db.version).toBe(0)
    expect(db.sqlite.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'ok'").pluck().get()).toBe(0)
    db.close()
  })

  it('refuses a database newer than the app', async () => {
    dir = createTempDir()
    const path = dir.file('app.sqlite')
    openDatabase({ path, migrations: ['SELECT 1', 'SELECT 2'] }).close()
    expect(() => openDatabase({ path, migrations: ['SELECT 1'] })).toThrow(/newer/)
  })

  it('rejects a missing path', async () => {
    expect(() => openDatabase({ path: '' })).toThrow(TypeError)
  })
})
