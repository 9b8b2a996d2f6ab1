// Real PostgreSQL for the example's tests: DATABASE_URL when set, else 127.0.0.1:5432 (database
// `test`, user `postgres`, as `.ci/run` starts it). Every call makes a fresh database with a random
// name, dropped by `dropTestDatabases`. No mocks, no skipped suites: when nothing answers, the run
// fails, naming what to install.
import { randomBytes } from 'node:crypto'
import pg from 'pg'

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/test'

/** The server the tests use (`DATABASE_URL`, else the local default). */
export function adminUrl(): string {
  const url = process.env.DATABASE_URL?.trim()
  return url !== undefined && /^postgres(ql)?:\/\//i.test(url) ? url : DEFAULT_URL
}

const created: string[] = []

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl(), connectionTimeoutMillis: 5000 })
  try {
    await client.connect()
  } catch (error) {
    throw new Error(
      `PostgreSQL does not answer at ${adminUrl().replace(/:[^:@/]*@/, '@')} (${(error as Error).message}). ` +
        'Start it (.ci/run does), set DATABASE_URL, or install it: apt-get install postgresql',
    )
  }
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

/**
 * Creates an empty database on the test server and returns its URL.
 *
 * @example
 * ```ts
 * const url = await createTestDatabase() // postgres://postgres@127.0.0.1:5432/ep_test_3f9a…
 * ```
 */
export async function createTestDatabase(): Promise<string> {
  const name = `ep_test_${randomBytes(6).toString('hex')}`
  await admin((client) => client.query(`CREATE DATABASE ${name}`))
  created.push(name)
  const url = new URL(adminUrl())
  url.pathname = `/${name}`
  return url.toString()
}

/** Drops every database {@link createTestDatabase} made in this process. */
export async function dropTestDatabases(): Promise<void> {
  const names = created.splice(0)
  if (names.length === 0) return
  await admin(async (client) => {
    for (const name of names) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  })
}
