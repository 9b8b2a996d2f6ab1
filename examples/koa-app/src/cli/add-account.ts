import { readFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { databasePathFromEnv } from '../config.js'
import { openAppDb } from '../database/index.js'
import { hashPassword } from '../passwords.js'
import { createRepositories } from '../repositories/index.js'

const USAGE = `Usage: npm run add-account -- <login> <password|-> [--has-billing]

Creates a partner account that Evotor's user/verify can log in with.
  <password>      the password; "-" reads it from standard input (keeps it out of shell history)
  --has-billing   the partner, not Evotor, bills this account (user/verify answers hasBilling: true)
The database is DATABASE_PATH (default data/app.sqlite in the app's folder).`

/** Streams and environment of {@link runAddAccount}. */
export interface AddAccountIo {
  env?: Readonly<Record<string, string | undefined>>
  stdout?: (line: string) => void
  stderr?: (line: string) => void
  /** Source of the password when it is given as "-". */
  readStdin?: () => string
}

/**
 * The `add-account` command: hashes the password (scrypt) and stores a new partner account.
 * Returns the process exit code (0 created, 1 login taken or bad input, 2 usage).
 *
 * @example
 * ```ts
 * const code = await runAddAccount(['ivanov', 'superpassword'])
 * ```
 */
export async function runAddAccount(argv: readonly string[], io: AddAccountIo = {}): Promise<number> {
  const out = io.stdout ?? ((line: string) => console.log(line))
  const err = io.stderr ?? ((line: string) => console.error(line))
  const flags = argv.filter((a) => a.startsWith('--'))
  const args = argv.filter((a) => !a.startsWith('--'))
  if (flags.includes('--help') || args.length !== 2 || flags.some((f) => f !== '--has-billing')) {
    err(USAGE)
    return 2
  }
  const [login = '', passwordArg = ''] = args
  const password =
    passwordArg === '-'
      ? (io.readStdin ?? (() => readFileSync(0, 'utf8')))().replace(/\r?\n$/, '')
      : passwordArg
  if (login.trim() === '' || password === '') {
    err('add-account: login and password must not be empty')
    return 1
  }
  // The slow part (scrypt) first, before the database is even opened: the write lock is then held
  // for one INSERT (milliseconds), never while hashing, so a running server is not held up.
  const passwordHash = await hashPassword(password)
  // A command may wait for a lock held by the server (its writes last milliseconds).
  const env = io.env ?? process.env
  const data = await openAppDb({
    url: env.DATABASE_URL?.trim() || undefined,
    path: databasePathFromEnv(env),
    busyTimeoutMs: 5000,
  })
  try {
    const repos = createRepositories({ data })
    const result = await repos.accounts.create({
      login,
      passwordHash,
      hasBilling: flags.includes('--has-billing'),
    })
    if (!result.ok) {
      err(`add-account: the login ${JSON.stringify(login.trim())} is already taken`)
      return 1
    }
    out(
      `Created partner account ${JSON.stringify(result.account.login)} (id ${result.account.id}) in ${data.location}`,
    )
    return 0
  } finally {
    await data.close()
  }
}

const invokedPath = process.argv[1]
if (invokedPath !== undefined && import.meta.url === pathToFileURL(invokedPath).href) {
  runAddAccount(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code
    },
    (error: unknown) => {
      console.error(`add-account failed: ${error instanceof Error ? error.message : String(error)}`)
      process.exitCode = 1
    },
  )
}
