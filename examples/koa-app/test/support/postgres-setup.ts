// Setup file of the `koa-app-postgres` vitest project: each test file's fresh databases are
// dropped when the file is done.
import { afterAll } from 'vitest'
import { dropTestDatabases } from './postgres.js'

afterAll(async () => {
  await dropTestDatabases()
})
