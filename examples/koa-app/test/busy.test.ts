import { setTimeout as sleep } from 'node:timers/promises'
import Database from 'better-sqlite3'
import { isEvotorError } from 'evotor-partner'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openDatabase } from '../src/db.js'
import { isBusyError, retryWhileBusy } from '../src/util/busy.js'
import { createTempDir, type TempDir } from './helpers.js'

let dir: TempDir
let app: ReturnType<typeof openDatabase>
let other: Database.Database
beforeEach(() => {
  dir = createTempDir()
  app = openDatabase({ path: dir.file('app.sqlite') })
  // A second connection stands for another process holding the write lock.
  other = new Database(dir.file('app.sqlite'))
})
afterEach(() => {
  if (other.inTransaction) other.exec('ROLLBACK')
  other.close()
  app.close()
  dir.cleanup()
})

const write = () => app.sqlite.prepare("INSERT INTO settings VALUES ('k', 'v', 'now')").run().changes

describe('retryWhileBusy', () => {
  it('uses a short busy_timeout by default', () => {
    expect(app.sqlite.pragma('busy_timeout', { simple: true })).toBe(25)
  })

  it('gives up with 503 + Retry-After while the lock is held, and writes nothing', async () => {
    other.exec('BEGIN IMMEDIATE')
    expect(() => write()).toThrow()
    let thrown: unknown
    try {
      write()
    } catch (error) {
      thrown = error
    }
    expect(isBusyError(thrown)).toBe(true)
    const error = await retryWhileBusy(write, { budgetMs: 200, retryAfterSeconds: 7 }).catch(
      (e: unknown) => e,
    )
    expect(isEvotorError(error) && error.status).toBe(503)
    expect(isEvotorError(error) && error.headers['retry-after']).toBe('7')
    other.exec('ROLLBACK')
    expect(app.sqlite.prepare('SELECT COUNT(*) FROM settings').pluck().get()).toBe(0)
  })

  it('succeeds once the lock is released during the budget, and keeps the event loop free meanwhile', async () => {
    other.exec('BEGIN IMMEDIATE')
    let ticks = 0
    const ticker = setInterval(() => ticks++, 1)
    const pending = retryWhileBusy(write, { budgetMs: 5_000 })
    await sleep(150)
    other.exec('COMMIT')
    expect(await pending).toBe(1)
    clearInterval(ticker)
    // Timers ran while the write was retrying: it did not hold the thread for the whole wait.
    expect(ticks).toBeGreaterThan(0)
  })

  it('rethrows other errors at once', async () => {
    await expect(retryWhileBusy(() => app.sqlite.prepare('SELECT * FROM nowhere').get())).rejects.toThrow(
      /no such table/,
    )
  })
})
