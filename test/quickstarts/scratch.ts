/**
 * The scratch project of the quick start test: one temporary directory outside the repository
 * with the packed tarball and every framework installed once, and helpers to type-check, start
 * and simulate one quick start in it.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const REPO = new URL('../../', import.meta.url).pathname

/**
 * What the scratch project installs next to the tarball. Express 4 comes in under an npm alias
 * (`express4`, `@types/express4`) and is put in front of Express 5 for one directory only.
 */
export const SCRATCH_DEPENDENCIES: Record<string, string> = {
  koa: '^3.3.0',
  express: '^5.3.0',
  express4: 'npm:express@^4.21.2',
  hono: '^4.13.19',
  '@hono/node-server': '^2.1.9',
  '@trpc/server': '^11.25.2',
  zod: '^4.6.7',
  tsx: '^4.21.0',
  typescript: '~5.9.3',
  '@types/koa': '^3.0.3',
  '@types/express': '^5.0.6',
  '@types/express4': 'npm:@types/express@^4.17.21',
  '@types/node': '^20.19.0',
}

export interface RunResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs a command to the end; never rejects on a non-zero exit (the caller asserts the code). */
export function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      command,
      [...args],
      {
        cwd: options.cwd,
        env: options.env ?? cleanEnv(),
        timeout: options.timeoutMs ?? 180_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1
        resolve({ code, stdout: String(stdout), stderr: String(stderr) })
      },
    )
  })
}

/**
 * The environment without what `npm test` sets for its scripts (`npm_config_*`, `npm_package_*`,
 * …): a child `npm install` in the scratch project must not think it runs in this workspace.
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(key) && key !== 'INIT_CWD' && key !== 'NODE_OPTIONS') env[key] = value
  }
  return { ...env, ...extra }
}

function newestMtime(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs)
  }
  return newest
}

/**
 * The test packs the `dist` that `npm test` builds just before the tests run (building again here
 * would rewrite `dist` under the other test files that import it). A missing or stale build is an
 * error that says what to do, never a silent test of old code.
 */
export function assertFreshBuild(): void {
  let built: number
  try {
    built = statSync(join(REPO, 'dist/index.js')).mtimeMs
  } catch {
    throw new Error('dist/ is missing: run `npm run build` before this test (npm test does)')
  }
  if (newestMtime(join(REPO, 'src')) > built) {
    throw new Error('dist/ is older than src/: run `npm run build` before this test (npm test does)')
  }
}

export interface Scratch {
  dir: string
  tarball: string
  /** Makes `<dir>/<name>/`; with `express4`, `express` resolves to Express 4 there. */
  project(name: string, options?: { express4?: boolean }): string
  remove(): void
}

/** Packs the library, creates the scratch project and installs everything once. */
export async function createScratch(): Promise<Scratch> {
  assertFreshBuild()
  const dir = mkdtempSync(join(tmpdir(), 'evotor-partner-quickstarts-'))
  try {
    return await setUp(dir)
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
}

async function setUp(dir: string): Promise<Scratch> {
  const pack = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
    cwd: REPO,
  })
  if (pack.code !== 0) throw new Error(`npm pack failed:\n${pack.stderr}`)
  const [packed] = JSON.parse(pack.stdout) as Array<{ filename: string }>
  if (packed === undefined) throw new Error(`npm pack printed no file:\n${pack.stdout}`)
  const tarball = join(dir, packed.filename)

  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify(
      {
        name: 'evotor-partner-quickstarts',
        private: true,
        type: 'module',
        dependencies: { 'evotor-partner': `file:./${packed.filename}`, ...SCRATCH_DEPENDENCIES },
      },
      null,
      2,
    ),
  )
  const install = await run(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'],
    { cwd: dir, timeoutMs: 240_000 },
  )
  if (install.code !== 0) throw new Error(`npm install in ${dir} failed:\n${install.stderr}`)

  return {
    dir,
    tarball,
    project(name, options = {}) {
      const project = join(dir, name)
      mkdirSync(project, { recursive: true })
      if (options.express4 === true) {
        // A node_modules of this directory alone: `express` and `@types/express` are the v4
        // aliases, and a copy of the package (a symlink would resolve back to the v5 types)
        // so that its `.d.ts` sees Express 4 too, as in a real Express 4 project.
        const modules = join(project, 'node_modules')
        mkdirSync(join(modules, '@types'), { recursive: true })
        symlinkSync(join(dir, 'node_modules/express4'), join(modules, 'express'), 'dir')
        symlinkSync(join(dir, 'node_modules/@types/express4'), join(modules, '@types/express'), 'dir')
        symlinkSync(join(dir, 'node_modules/@types/node'), join(modules, '@types/node'), 'dir')
        cpSync(join(dir, 'node_modules/evotor-partner'), join(modules, 'evotor-partner'), { recursive: true })
      }
      return project
    },
    remove() {
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** The two setups every quick start must type-check under. */
export const SETUPS = {
  node16: { module: 'node16', moduleResolution: 'node16' },
  bundler: { module: 'esnext', moduleResolution: 'bundler' },
} as const
export type Setup = keyof typeof SETUPS

/**
 * The README's quick-start `tsconfig.json`, what a user is told to use (strict, as the strictest
 * common presets), without its module options: each setup puts its own over it (the README's are one
 * of them). `types: ['node']` also keeps the Express 4 and 5 type packages, installed side by side, out.
 */
function readmeCompilerOptions(): Record<string, unknown> {
  const readme = readFileSync(`${REPO}README.md`, 'utf8')
  const region =
    /<!-- quickstart-tsconfig:start -->\s*```json\n([\s\S]*?)```\s*<!-- quickstart-tsconfig:end -->/.exec(
      readme,
    )
  if (region === null) throw new Error('README.md has no quickstart-tsconfig block')
  const { compilerOptions } = JSON.parse(region[1] as string) as { compilerOptions: Record<string, unknown> }
  const { module, moduleResolution, ...rest } = compilerOptions
  const own = Object.values(SETUPS).some(
    (s) => s.module === module && s.moduleResolution === moduleResolution,
  )
  if (!own)
    throw new Error(
      `README.md's quick-start tsconfig uses a setup the test does not: ${module}/${moduleResolution}`,
    )
  return rest
}

const STRICT = readmeCompilerOptions()

/**
 * Type-checks `server.ts` of each project under each setup, every one its own program (as its own
 * `tsc -p` would be), in one process (`typecheck.mjs`); resolves with the diagnostics by
 * `<project>:<setup>`, '' when clean.
 */
export async function typeCheckAll(
  scratch: Scratch,
  projects: readonly string[],
): Promise<Record<string, string>> {
  const jobs = projects.flatMap((project) => {
    // A project with its own @types (Express 4) takes its global types from there alone: the
    // `/// <reference types>` inside @types/express would otherwise find Express 5's
    // express-serve-static-core at the top of the scratch project first.
    const ownTypes = join(project, 'node_modules/@types')
    const typeRoots = existsSync(ownTypes) ? { typeRoots: [ownTypes] } : {}
    return (Object.keys(SETUPS) as Setup[]).map((setup) => ({
      id: `${project}:${setup}`,
      file: join(project, 'server.ts'),
      compilerOptions: { ...STRICT, ...typeRoots, ...SETUPS[setup] },
    }))
  })
  const checker = new URL('./typecheck.mjs', import.meta.url).pathname
  const typescript = join(scratch.dir, 'node_modules/typescript/lib/typescript.js')
  const result = await new Promise<RunResult>((resolve) => {
    const child = execFile(
      process.execPath,
      [checker, typescript],
      { cwd: scratch.dir, env: cleanEnv(), maxBuffer: 64 * 1024 * 1024, timeout: 240_000 },
      (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : 1, stdout: String(stdout), stderr: String(stderr) }),
    )
    child.stdin?.end(JSON.stringify(jobs))
  })
  if (result.code !== 0) throw new Error(`typecheck.mjs failed:\n${result.stderr}`)
  return JSON.parse(result.stdout) as Record<string, string>
}

/** A free TCP port on 127.0.0.1 (closed again before it is handed out). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject()))
    })
  })
}

export interface Started {
  child: ChildProcess
  output: () => string
  stop(): Promise<void>
}

/** Starts `server.ts` with tsx and waits until the port accepts connections. */
export async function startServer(
  project: string,
  env: Record<string, string>,
  port: number,
  timeoutMs = 60_000,
): Promise<Started> {
  let output = ''
  const child = spawn(process.execPath, ['--import', 'tsx', 'server.ts'], {
    cwd: project,
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout?.on('data', (chunk) => (output += String(chunk)))
  child.stderr?.on('data', (chunk) => (output += String(chunk)))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const started: Started = {
    child,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))])
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    },
  }
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`server.ts exited (${child.exitCode ?? child.signalCode}) before listening:\n${output}`)
    }
    if (await accepts(port)) return started
    if (Date.now() > deadline) {
      await started.stop()
      throw new Error(`server.ts did not listen on ${port} within ${timeoutMs} ms:\n${output}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 150))
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}
