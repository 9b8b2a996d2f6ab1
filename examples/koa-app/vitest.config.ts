import { defineConfig } from 'vitest/config'

// `npm test` runs the `sqlite` project (nothing to install); `npm run test:postgres` runs the
// end-to-end suite again on PostgreSQL (DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test),
// with the tests that need several processes on one PostgreSQL database.
const POSTGRES_ONLY = ['test/e2e/multi-instance.test.ts', 'test/e2e/postgres-outage.test.ts']
const SQLITE_ONLY = ['test/e2e/db-lock.test.ts', 'test/e2e/startup.test.ts']

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: { name: 'sqlite', include: ['test/**/*.test.ts'], exclude: POSTGRES_ONLY },
      },
      {
        extends: true,
        test: {
          name: 'postgres',
          include: ['test/e2e/**/*.test.ts'],
          exclude: SQLITE_ONLY,
          env: { E2E_DATABASE: 'postgres' },
          setupFiles: ['test/support/postgres-setup.ts'],
        },
      },
    ],
  },
})
