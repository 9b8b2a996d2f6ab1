#!/usr/bin/env node
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import type { RouteName } from './protocol/routes.js'
import { runUrlsCommand } from './terminal/urls-command.js'
import { type ConformanceOptions, runConformance } from './testing/conformance.js'
import { runProxyCommand } from './testing/local-proxy-command.js'
import { formatProgress, renderReport } from './testing/report.js'

/**
 * Where {@link main} writes and what it reads besides `argv` (injectable for tests).
 *
 * @example
 * ```ts
 * const io: CliIO = { stdout: process.stdout, stderr: process.stderr, env: process.env }
 * ```
 */
export interface CliIO {
  stdout: { write(chunk: string): unknown }
  stderr: { write(chunk: string): unknown }
  /** Environment for `EVOTOR_APP_TOKEN` / `EVOTOR_APP_BASIC`; default none. */
  env?: Readonly<Record<string, string | undefined>>
  /** `fetch` for the requests; default the global one. */
  fetch?: typeof fetch
}

/**
 * Usage text of `evotor-partner`.
 *
 * @example
 * ```ts
 * process.stdout.write(CLI_USAGE)
 * ```
 */
export const CLI_USAGE = `Usage: evotor-partner simulate <baseUrl> [options]
       evotor-partner urls <file>       check a terminal app's URLs against the portal's patterns (urls --help)
       evotor-partner proxy [options]   a local stand-in for the Evotor cloud proxy (proxy --help)

Plays the Evotor cloud against a running partner service and checks every answer against the
protocol: user/create (or user/verify), user/token, subscription events (with a duplicate and an
out-of-order pair), installation events, stores/devices/employees, products, documents,
receipts, commodities, negative cases and proxied terminal requests.

Options:
  --app-token <token>          app credential, sent as "Bearer <token>" (env EVOTOR_APP_TOKEN)
  --app-basic <login:password> app credential, sent as Basic (env EVOTOR_APP_BASIC)
  --proxy-version <1|2>        proxy version of the app (default 2; 1 = {status, body} envelope)
  --proxy-path <path>          terminal-facing path to call like the cloud proxy (enables proxy.* checks)
  --proxy-method <method>      method of the proxied requests (default GET)
  --state-path <path>          terminal-facing path reflecting the user's state; read around the
                               duplicate event to prove it was not applied twice
  --path <route=/path>         a path that differs from the default (repeatable), e.g.
                               --path userCreate=/evotor/user/create
  --verify-login <login:password>  use user/verify with this partner login instead of user/create
  --event-credential <app|user>    credential on subscription/installation events (default app)
  --only <id,id>               run only these checks (repeatable)
  --skip <id,id>               leave out these checks (repeatable)
  --timeout <ms>               deadline of every answer (default 10000, as the Evotor cloud)
  --user-id <id>               Evotor user id to play (default: a fresh random one)
  --json                       print the report as JSON on stdout
  -h, --help                   show this help

Progress goes to stderr, the report to stdout. Exit code: 0 when every check passed, 1 when a
check failed, 2 on a usage error.
`

class UsageError extends Error {}

function splitPair(option: string, value: string): { username: string; password: string } {
  const at = value.indexOf(':')
  if (at <= 0) throw new UsageError(`${option} must be login:password`)
  return { username: value.slice(0, at), password: value.slice(at + 1) }
}

function list(values: readonly string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined
  return values
    .flatMap((value) => value.split(','))
    .map((id) => id.trim())
    .filter((id) => id !== '')
}

function parse(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): ConformanceOptions | 'help' {
  let parsed: ReturnType<typeof parseCli>
  try {
    parsed = parseCli(argv)
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error))
  }
  const { values, positionals } = parsed
  if (values.help === true) return 'help'
  const [command, baseUrl, ...rest] = positionals
  if (command === undefined) throw new UsageError('missing command: simulate, urls or proxy')
  if (command !== 'simulate') throw new UsageError(`unknown command "${command}"`)
  if (baseUrl === undefined) throw new UsageError('missing <baseUrl>')
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`)

  const options: ConformanceOptions = { baseUrl }
  const appToken = values['app-token'] ?? env.EVOTOR_APP_TOKEN
  const appBasic = values['app-basic'] ?? env.EVOTOR_APP_BASIC
  if (values['app-token'] !== undefined && values['app-basic'] !== undefined) {
    throw new UsageError('give either --app-token or --app-basic, not both')
  }
  if (values['app-token'] !== undefined || (values['app-basic'] === undefined && appToken !== undefined)) {
    if (appToken !== undefined) options.appToken = appToken
  } else if (appBasic !== undefined) {
    options.appBasic = splitPair('--app-basic', appBasic)
  }
  if (options.appToken === undefined && options.appBasic === undefined) {
    throw new UsageError('the app credential is required: --app-token or --app-basic (or EVOTOR_APP_TOKEN)')
  }
  if (values['proxy-version'] !== undefined) {
    if (values['proxy-version'] !== '1' && values['proxy-version'] !== '2') {
      throw new UsageError('--proxy-version must be 1 or 2')
    }
    options.proxyVersion = values['proxy-version'] === '1' ? 1 : 2
  }
  if (values['proxy-path'] !== undefined) options.proxyPath = values['proxy-path']
  if (values['state-path'] !== undefined) options.statePath = values['state-path']
  if (values['proxy-method'] !== undefined) {
    const method = values['proxy-method'].toUpperCase()
    if (method !== 'GET' && method !== 'POST' && method !== 'PUT' && method !== 'DELETE') {
      throw new UsageError('--proxy-method must be GET, POST, PUT or DELETE')
    }
    options.proxyMethod = method
  }
  if (values.path !== undefined) {
    const paths: Partial<Record<RouteName, string>> = {}
    for (const entry of values.path) {
      const at = entry.indexOf('=')
      if (at <= 0) throw new UsageError(`--path must be route=/path, got "${entry}"`)
      paths[entry.slice(0, at) as RouteName] = entry.slice(at + 1)
    }
    options.paths = paths
  }
  if (values['verify-login'] !== undefined)
    options.verify = splitPair('--verify-login', values['verify-login'])
  if (values['event-credential'] !== undefined) {
    const credential = values['event-credential']
    if (credential !== 'app' && credential !== 'user')
      throw new UsageError('--event-credential must be app or user')
    options.eventCredential = credential
  }
  const only = list(values.only)
  if (only !== undefined) options.only = only
  const skip = list(values.skip)
  if (skip !== undefined) options.skip = skip
  if (values.timeout !== undefined) {
    const timeout = Number(values.timeout)
    if (!Number.isFinite(timeout) || timeout <= 0)
      throw new UsageError('--timeout must be a positive number of ms')
    options.timeoutMs = timeout
  }
  if (values['user-id'] !== undefined) options.userId = values['user-id']
  return options
}

function parseCli(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      'app-token': { type: 'string' },
      'app-basic': { type: 'string' },
      'proxy-version': { type: 'string' },
      'proxy-path': { type: 'string' },
      'proxy-method': { type: 'string' },
      'state-path': { type: 'string' },
      path: { type: 'string', multiple: true },
      'verify-login': { type: 'string' },
      'event-credential': { type: 'string' },
      only: { type: 'string', multiple: true },
      skip: { type: 'string', multiple: true },
      timeout: { type: 'string' },
      'user-id': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
}

/**
 * Runs the `evotor-partner` command line in-process and resolves with the exit code: 0 when
 * every check passed, 1 when one failed, 2 on a usage error. The bin calls it with
 * `process.argv.slice(2)`.
 *
 * @example
 * ```ts
 * const code = await main(['simulate', 'http://127.0.0.1:3000', '--app-token', 'secret'], {
 *   stdout: process.stdout,
 *   stderr: process.stderr,
 * })
 * ```
 */
export async function main(argv: readonly string[], io: CliIO): Promise<number> {
  if (argv[0] === 'urls') return runUrlsCommand(argv.slice(1), io)
  if (argv[0] === 'proxy') return runProxyCommand(argv.slice(1), { ...io, env: io.env ?? {} })
  let options: ConformanceOptions | 'help'
  try {
    options = parse(argv, io.env ?? {})
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    io.stderr.write(`evotor-partner: ${error.message}\n\n${CLI_USAGE}`)
    return 2
  }
  if (options === 'help') {
    io.stdout.write(CLI_USAGE)
    return 0
  }
  const json = argv.includes('--json')
  try {
    const report = await runConformance({
      ...options,
      ...(io.fetch === undefined ? {} : { fetch: io.fetch }),
      onProgress: (result) => io.stderr.write(`${formatProgress(result)}\n`),
    })
    io.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report))
    return report.ok ? 0 : 1
  } catch (error) {
    if (error instanceof TypeError && error.message.startsWith('runConformance:')) {
      io.stderr.write(`evotor-partner: ${error.message.slice('runConformance: '.length)}\n`)
      return 2
    }
    throw error
  }
}

function isEntryPoint(): boolean {
  const script = process.argv[1]
  if (script === undefined || typeof import.meta.url !== 'string') return false
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url))
  } catch {
    return false
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
    (code) => {
      process.exitCode = code
    },
    (error: unknown) => {
      process.stderr.write(`evotor-partner: ${error instanceof Error ? error.message : String(error)}\n`)
      process.exitCode = 2
    },
  )
}
