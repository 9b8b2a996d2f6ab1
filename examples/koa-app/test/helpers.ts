import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type AppDb, openAppDb } from '../src/database/index.js'
import { createRepositories, type Repositories } from '../src/repositories/index.js'

/** A temporary directory removed by `cleanup()`. */
export interface TempDir {
  readonly path: string
  file(name: string): string
  cleanup(): void
}

export function createTempDir(): TempDir {
  const path = mkdtempSync(join(tmpdir(), 'koa-app-test-'))
  return {
    path,
    file: (name) => join(path, name),
    cleanup: () => rmSync(path, { recursive: true, force: true }),
  }
}

/** A clock the test moves by hand. */
export interface ManualClock {
  now(): Date
  advance(ms: number): void
  set(iso: string): void
}

export function createClock(start = '2024-05-01T10:00:00.000Z'): ManualClock {
  let time = Date.parse(start)
  return {
    now: () => new Date(time),
    advance: (ms) => {
      time += ms
    },
    set: (iso) => {
      time = Date.parse(iso)
    },
  }
}

/** An open temp database with repositories; `reopen()` simulates a restart on the same file. */
export interface TestDb {
  readonly dir: TempDir
  readonly path: string
  db: AppDb
  repos: Repositories
  readonly clock: ManualClock
  reopen(): Promise<void>
  cleanup(): Promise<void>
}

export async function createTestDb(): Promise<TestDb> {
  const dir = createTempDir()
  const path = dir.file('nested/app.sqlite')
  const clock = createClock()
  const db = await openAppDb({ path })
  const t: TestDb = {
    dir,
    path,
    clock,
    db,
    repos: createRepositories({ data: db, now: clock.now }),
    async reopen() {
      await t.db.close()
      t.db = await openAppDb({ path })
      t.repos = createRepositories({ data: t.db, now: clock.now })
    },
    async cleanup() {
      await t.db.close()
      dir.cleanup()
    },
  }
  return t
}

/** Reads a JSON fixture copied into test/fixtures. */
export function fixture<T = unknown>(relativePath: string): T {
  return JSON.parse(readFileSync(new URL(`./fixtures/${relativePath}`, import.meta.url), 'utf8')) as T
}
