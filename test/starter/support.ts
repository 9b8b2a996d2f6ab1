// Shared by the starter tests: packing the library, installing a project outside the repository
// with nothing but the npm registry, running its commands, starting it.
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const exec = promisify(execFile)

/** The repository's root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
/** The starter's source folder. */
export const STARTER = join(ROOT, 'examples', 'koa-app')
/** The library's version (= the creator's). */
export const LIBRARY_VERSION = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
).version

const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm'

/**
 * The environment of a project outside the repository: this process's, less what the outer
 * `npm test` and vitest put in it (`npm_*` would point nested npm runs at the repository,
 * `VITEST*` and `NODE_ENV` would change how the project's own runs behave), less database
 * variables meant for the repository's suites.
 */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined) continue
    if (
      /^(npm_|VITEST|TINYPOOL|NODE_ENV$|NODE_OPTIONS$|INIT_CWD$|E2E_|DATABASE_|REDIS_URL$|PORT$|HOST$)/i.test(
        key,
      )
    )
      continue
    env[key] = value
  }
  return {
    ...env,
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    ...extra,
  }
}

/** `text` without terminal colours. */
export function plain(text: string): string {
  return text.replace(/\u001b\[[0-9;]*m/g, '')
}

/** A temporary folder outside the repository, removed by `cleanup()`. */
export function tempFolder(prefix: string): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix))
  if (path.startsWith(ROOT)) throw new Error(`temp folder ${path} is inside the repository`)
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) }
}

/** Runs a command, resolving with its output; rejects with both streams in the message. */
export async function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: Record<string, string>; timeoutMs?: number },
): Promise<{ stdout: string; stderr: string }> {
  try {
    return await exec(command === 'npm' ? NPM : command, args, {
      cwd: options.cwd,
      env: options.env ?? cleanEnv(),
      timeout: options.timeoutMs ?? 10 * 60_000,
      maxBuffer: 64 * 1024 * 1024,
    })
  } catch (error) {
    const e = error as Error & { stdout?: string; stderr?: string }
    const tail = (text = '') => text.split('\n').slice(-60).join('\n')
    throw new Error(
      `${command} ${args.join(' ')} failed in ${options.cwd}: ${e.message}\n${tail(e.stdout)}\n${tail(e.stderr)}`,
    )
  }
}

/** `npm pack` of the library (built by `npm run build` before the tests) into `dest`; the tarball's path. */
export async function packLibrary(dest: string): Promise<string> {
  if (!existsSync(join(ROOT, 'dist', 'index.js')))
    throw new Error('dist/ is missing: run `npm run build` first')
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dest], { cwd: ROOT })
  const [info] = JSON.parse(stdout) as [{ filename: string }]
  return join(dest, basename(info.filename))
}

/**
 * better-sqlite3's native module as a local prebuild (prebuild-install's `local-prebuilds`), made
 * from the one `npm ci` built for this repository: the project's install then neither downloads
 * a binary (only the npm registry is reachable) nor compiles SQLite again (minutes on a shared
 * machine). Used only when the project resolves the same better-sqlite3 version; any other
 * version is built from source. Returns the install environment.
 */
export async function installEnv(dest: string): Promise<Record<string, string>> {
  const module = join(ROOT, 'node_modules', 'better-sqlite3')
  const { version } = JSON.parse(readFileSync(join(module, 'package.json'), 'utf8')) as { version: string }
  const dir = join(dest, 'prebuilds')
  mkdirSync(dir, { recursive: true })
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`
  await run('tar', ['-czf', join(dir, name), '-C', module, 'build/Release/better_sqlite3.node'], {
    cwd: ROOT,
  })
  return cleanEnv({ npm_config_better_sqlite3_local_prebuilds: dir })
}

/** `npm install` in a project: registry only, from the local npm cache where it can. */
export async function npmInstall(cwd: string, env: Record<string, string>): Promise<void> {
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], {
    cwd,
    env,
    timeoutMs: 12 * 60_000,
  })
}

/** Copies the starter as a user would: without what its `.gitignore` keeps out. */
export function copyStarter(to: string): void {
  const skip = new Set(['node_modules', 'data', 'dist', '.env'])
  cpSync(STARTER, to, {
    recursive: true,
    filter: (source) => {
      const name = basename(source)
      return !skip.has(name) && !/\.sqlite/.test(name)
    },
  })
}

/** A started service: its URL, its app credential (read from the banner), its output so far. */
export interface StartedApp {
  url: string
  appToken: string
  output: () => string
  stop: () => Promise<void>
}

/** `npm start` in development mode on `port`; resolves once the banner says it listens. */
export async function startApp(cwd: string, port: number): Promise<StartedApp> {
  const child: ChildProcess = spawn(NPM, ['start'], {
    cwd,
    env: cleanEnv({ PORT: String(port) }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8')
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8')
  })
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.pid === undefined) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    process.kill(-child.pid, 'SIGTERM') // npm and the service it started
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))])
    if (child.exitCode === null) process.kill(-child.pid, 'SIGKILL')
  }
  const started = Date.now()
  while (!/listening on http/.test(output)) {
    if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}:\n${output}`)
    if (Date.now() - started > 120_000) {
      await stop()
      throw new Error(`npm start did not listen within 120 s:\n${output}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const appToken = /app credential[^\n]*Authorization: Bearer (\S+)/.exec(output)?.[1]
  if (appToken === undefined) {
    await stop()
    throw new Error(`no app credential in the banner:\n${output}`)
  }
  return { url: `http://127.0.0.1:${port}`, appToken, output: () => output, stop }
}

/** A free TCP port on the loopback. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net')
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}
