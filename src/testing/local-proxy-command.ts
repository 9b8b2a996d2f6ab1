/** `evotor-partner proxy`: the local cloud proxy of `createLocalProxy` on the command line. */
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { parseUrlsFile } from '../terminal/urls-command.js'
import { createLocalProxy, formatLocalProxyExchange, type LocalProxyOptions } from './local-proxy.js'

/** Where the command writes, its environment, and (for tests) what stops it. */
export interface ProxyCommandIO {
  stdout: { write(chunk: string): unknown }
  stderr: { write(chunk: string): unknown }
  env: Readonly<Record<string, string | undefined>>
  /** Stops the proxy; default SIGINT/SIGTERM. */
  signal?: AbortSignal
}

export const PROXY_USAGE = `Usage: evotor-partner proxy --target <url> --pattern <regex> [options]

A local stand-in for the Evotor cloud proxy, for developing a terminal app against your own
partner service. The app calls the proxy; the proxy refuses what the terminal and the portal
refuse (a URL no allowed-URL pattern matches as Java would, a port other than 80/443, WebSocket,
methods outside GET/POST/PUT/DELETE), strips the reserved and terminal headers, adds
X-Evotor-Store-Uuid, X-Evotor-Device-UUID, X-Evotor-User-Id and Authorization: Bearer <user
token>, forwards to the service and logs each exchange with secrets masked.

Options:
  --target <url>             base URL of the partner service (required)
  --public-url <url>         the base URL the app calls, which the patterns are written for
                             (default: --target); <proxy>/x stands for <public-url>/x
  --pattern <regex>          an allowed-URL pattern as on the portal (repeatable)
  --patterns <file>          patterns from a file (one per line, or the [patterns] section of
                             an "evotor-partner urls" file)
  --proxy-version <1|2>      1: check and unwrap the {status, body} envelope (default 2)
  --user-token <token>       the partner user token to send (env EVOTOR_USER_TOKEN)
  --app-token <token>        or obtain one through the service's user/create (env EVOTOR_APP_TOKEN)
  --app-basic <login:pass>   same, with a Basic app credential (env EVOTOR_APP_BASIC)
  --user-create-path <path>  default /api/v1/user/create
  --user-id <id>             Evotor user id (default random, e.g. 01-000000000000001)
  --store-uuid <uuid>        store of the terminal (default random)
  --device-uuid <uuid>       the terminal (default random)
  --port <n>                 default 8080 (0: any free port)
  --host <host>              default 127.0.0.1
  --allowed-host <name>      a Host (and browser Origin) name to answer besides localhost, IP
                             addresses and the hosts of --target and --public-url (repeatable;
                             '*': any host and origin, e.g. an app page on file://)
  --timeout <ms>             deadline of the service's answer (default 30000)
  --json                     log exchanges as JSON lines
  -h, --help                 show this help

Runs until interrupted (exit code 0); 2 on a usage error or when the user token cannot be obtained.
`

class UsageError extends Error {}

function parseProxyArgs(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: false,
    strict: true,
    options: {
      target: { type: 'string' },
      'public-url': { type: 'string' },
      pattern: { type: 'string', multiple: true },
      patterns: { type: 'string' },
      'proxy-version': { type: 'string' },
      'user-token': { type: 'string' },
      'app-token': { type: 'string' },
      'app-basic': { type: 'string' },
      'user-create-path': { type: 'string' },
      'user-id': { type: 'string' },
      'store-uuid': { type: 'string' },
      'device-uuid': { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'allowed-host': { type: 'string', multiple: true },
      timeout: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
}

type Parsed = ReturnType<typeof parseProxyArgs>['values']

async function readPatterns(values: Parsed): Promise<string[]> {
  const patterns = [...(values.pattern ?? [])]
  if (values.patterns !== undefined) {
    let text: string
    try {
      text = await readFile(values.patterns, 'utf8')
    } catch (error) {
      throw new UsageError(
        `cannot read ${values.patterns}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
      )
    }
    if (/^\s*\[patterns\]\s*$/im.test(text)) patterns.push(...parseUrlsFile(text).patterns)
    else
      patterns.push(
        ...text
          .split(/\r?\n/)
          .map((line) => line.trim())
          .filter((l) => l !== '' && !l.startsWith('#')),
      )
  }
  if (patterns.length === 0) throw new UsageError('give the allowed-URL patterns: --pattern or --patterns')
  return patterns
}

async function toOptions(
  values: Parsed,
  env: ProxyCommandIO['env'],
): Promise<{ options: LocalProxyOptions; port: number; host: string }> {
  if (values.target === undefined) throw new UsageError('--target is required')
  const options: LocalProxyOptions = { target: values.target, patterns: await readPatterns(values) }
  if (values['public-url'] !== undefined) options.publicUrl = values['public-url']
  const hosts = values['allowed-host']
  if (hosts !== undefined) options.allowedHosts = hosts.includes('*') ? true : hosts
  if (values['proxy-version'] !== undefined) {
    if (values['proxy-version'] !== '1' && values['proxy-version'] !== '2') {
      throw new UsageError('--proxy-version must be 1 or 2')
    }
    options.proxyVersion = values['proxy-version'] === '1' ? 1 : 2
  }
  const user: NonNullable<LocalProxyOptions['user']> = {}
  if (values['user-id'] !== undefined) user.userId = values['user-id']
  if (values['store-uuid'] !== undefined) user.storeUuid = values['store-uuid']
  if (values['device-uuid'] !== undefined) user.deviceUuid = values['device-uuid']
  const userToken = values['user-token'] ?? env.EVOTOR_USER_TOKEN
  const appToken = values['app-token'] ?? env.EVOTOR_APP_TOKEN
  const appBasic = values['app-basic'] ?? env.EVOTOR_APP_BASIC
  if (userToken !== undefined) user.token = userToken
  else if (appToken !== undefined || appBasic !== undefined) {
    const create: NonNullable<LocalProxyOptions['userCreate']> = {}
    if (appToken !== undefined) create.appToken = appToken
    else {
      const at = appBasic!.indexOf(':')
      if (at <= 0) throw new UsageError('--app-basic must be login:password')
      create.appBasic = { username: appBasic!.slice(0, at), password: appBasic!.slice(at + 1) }
    }
    if (values['user-create-path'] !== undefined) create.path = values['user-create-path']
    options.userCreate = create
  } else {
    throw new UsageError(
      'give --user-token (or EVOTOR_USER_TOKEN), or --app-token/--app-basic to call user/create',
    )
  }
  options.user = user
  if (values.timeout !== undefined) {
    const timeout = Number(values.timeout)
    if (!Number.isFinite(timeout) || timeout <= 0)
      throw new UsageError('--timeout must be a positive number of ms')
    options.timeoutMs = timeout
  }
  const port = Number(values.port ?? '8080')
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new UsageError('--port must be 0..65535')
  return { options, port, host: values.host ?? '127.0.0.1' }
}

function stopped(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal !== undefined) {
      if (signal.aborted) resolve()
      else signal.addEventListener('abort', () => resolve(), { once: true })
      return
    }
    const stop = (): void => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      resolve()
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
}

/**
 * Runs `evotor-partner proxy` until stopped; resolves with the exit code (0, or 2 on a usage
 * error or when the user token cannot be obtained).
 *
 * @param argv - The arguments after `proxy`.
 * @param io - Output, environment and an optional stop signal.
 * @returns The exit code.
 */
export async function runProxyCommand(argv: readonly string[], io: ProxyCommandIO): Promise<number> {
  let resolved: Awaited<ReturnType<typeof toOptions>>
  try {
    const { values } = parseProxyArgs(argv)
    if (values.help === true) {
      io.stdout.write(PROXY_USAGE)
      return 0
    }
    resolved = await toOptions(values, io.env)
  } catch (error) {
    if (!(error instanceof UsageError) && !(error instanceof TypeError)) throw error
    io.stderr.write(`evotor-partner proxy: ${error.message}\n\n${PROXY_USAGE}`)
    return 2
  }
  const json = argv.includes('--json')
  const { options, port, host } = resolved
  let proxy: ReturnType<typeof createLocalProxy>
  let url: string
  try {
    proxy = createLocalProxy({
      ...options,
      onExchange: (exchange) =>
        io.stdout.write(json ? `${JSON.stringify(exchange)}\n` : formatLocalProxyExchange(exchange)),
    })
    url = await proxy.listen(port, host)
  } catch (error) {
    io.stderr.write(`evotor-partner proxy: ${error instanceof Error ? error.message : String(error)}\n`)
    return 2
  }
  const user = await proxy.user()
  io.stderr.write(
    `evotor-partner proxy: listening on ${url}, forwarding to ${options.target} (proxy ver. ${options.proxyVersion ?? 2}); ` +
      `user ${user.userId}, store ${user.storeUuid}, device ${user.deviceUuid}\n`,
  )
  await stopped(io.signal)
  await proxy.close()
  return 0
}
