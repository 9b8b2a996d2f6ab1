import { defineConfig } from 'vitest/config'

// The example's e2e files that depend on SQLite itself (a second process holding the file lock,
// file paths and `:memory:`): they run in the default project only.
const SQLITE_ONLY = ['examples/koa-app/test/e2e/db-lock.test.ts', 'examples/koa-app/test/e2e/startup.test.ts']

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'default',
          include: ['test/**/*.test.ts', 'examples/*/test/**/*.test.ts'],
          typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
        },
      },
      {
        // The same example e2e suite again, on PostgreSQL (a fresh database per test folder).
        extends: true,
        test: {
          name: 'koa-app-postgres',
          include: ['examples/koa-app/test/e2e/**/*.test.ts'],
          // multi-instance and postgres-outage are PostgreSQL tests already (default project).
          exclude: [
            ...SQLITE_ONLY,
            'examples/koa-app/test/e2e/multi-instance.test.ts',
            'examples/koa-app/test/e2e/postgres-outage.test.ts',
          ],
          env: { E2E_DATABASE: 'postgres' },
          setupFiles: ['examples/koa-app/test/support/postgres-setup.ts'],
        },
      },
    ],
  },
})
