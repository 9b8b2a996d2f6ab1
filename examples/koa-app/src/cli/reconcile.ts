import { pathToFileURL } from 'node:url'
import { loadCloudConfig } from '../cloud-config.js'
import { createCloudSync, type ReconcileReport } from '../cloud-sync.js'
import { databasePathFromEnv } from '../config.js'
import { openDatabase } from '../db.js'
import { createLogger } from '../logger.js'
import { createRepositories } from '../repositories/index.js'

/** Environment and output of {@link runReconcile}. */
export interface ReconcileIo {
  env?: Readonly<Record<string, string | undefined>>
  stdout?: (line: string) => void
  stderr?: (line: string) => void
}

/**
 * The `reconcile` command: one reconciliation run over every installed user with a cloud token
 * (the same job the service runs every `EVOTOR_RECONCILE_INTERVAL_MS`). Safe next to a running
 * service: a user another copy is paging is skipped. Returns the exit code (0 done, 1 failures,
 * 2 not configured).
 *
 * @example
 * ```ts
 * const code = await runReconcile({ env: { EVOTOR_CLOUD_URL: 'https://api.evotor.ru' } })
 * ```
 */
export async function runReconcile(
  io: ReconcileIo = {},
): Promise<{ code: number; report?: ReconcileReport }> {
  const env = io.env ?? process.env
  const out = io.stdout ?? ((line: string) => console.log(line))
  const err = io.stderr ?? ((line: string) => console.error(line))
  const config = loadCloudConfig(env)
  if (config === undefined) {
    err('reconcile: EVOTOR_CLOUD_URL is not set; nothing to do')
    return { code: 2 }
  }
  const db = openDatabase({ path: databasePathFromEnv(env) })
  try {
    const repos = createRepositories({ db: db.sqlite })
    const logger = createLogger({ level: 'warn', sink: (line) => err(line) })
    const sync = createCloudSync({ sqlite: db.sqlite, repos, logger, config })
    const report = await sync.reconcileAll()
    await sync.stop()
    out(
      `reconcile: ${report.users} users, ${report.documents} documents read, ${report.inserted} new, ${report.skipped} skipped (another run), ${report.failed} failed`,
    )
    return { code: report.failed > 0 ? 1 : 0, report }
  } finally {
    db.close()
  }
}

const invokedPath = process.argv[1]
if (invokedPath !== undefined && import.meta.url === pathToFileURL(invokedPath).href) {
  runReconcile().then(
    ({ code }) => {
      process.exitCode = code
    },
    (error: unknown) => {
      console.error(`reconcile failed: ${error instanceof Error ? error.message : String(error)}`)
      process.exitCode = 1
    },
  )
}
