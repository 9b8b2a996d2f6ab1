import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'

/**
 * The address the `simulate` command plays the cloud against: the running service's `PORT`
 * (default 3000) and `HOST` (default 127.0.0.1; `0.0.0.0` and `::` are reached on the loopback).
 *
 * @example
 * ```ts
 * simulateTarget({ PORT: '8080' }) // 'http://127.0.0.1:8080'
 * ```
 */
export function simulateTarget(env: Readonly<Record<string, string | undefined>>): string {
  const port = env.PORT?.trim() || '3000'
  const rawHost = env.HOST?.trim() || '127.0.0.1'
  const host = rawHost === '0.0.0.0' ? '127.0.0.1' : rawHost === '::' ? '[::1]' : rawHost
  return `http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`
}

/**
 * The arguments of `evotor-partner simulate` for this service: its address, the proxied
 * procedure it calls and the state procedure that proves a duplicate changed nothing, then the
 * caller's own arguments (`--app-token …`, `--proxy-version 1`).
 *
 * @example
 * ```ts
 * simulateArgs({ PORT: '8080' }, ['--app-token', 't'])
 * ```
 */
export function simulateArgs(
  env: Readonly<Record<string, string | undefined>>,
  extra: readonly string[],
): string[] {
  return [
    'simulate',
    simulateTarget(env),
    '--proxy-path',
    '/trpc/whoami',
    '--state-path',
    '/trpc/account.state',
    ...extra,
  ]
}

const invokedPath = process.argv[1]
if (invokedPath !== undefined && import.meta.url === pathToFileURL(invokedPath).href) {
  const require = createRequire(import.meta.url)
  const bin = join(dirname(require.resolve('evotor-partner/package.json')), 'dist', 'cli.js')
  const child = spawn(process.execPath, [bin, ...simulateArgs(process.env, process.argv.slice(2))], {
    stdio: 'inherit',
  })
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
}
