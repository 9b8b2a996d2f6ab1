// The example app (examples/koa-app) on its two databases, whole processes as deployed:
// 1. the receipts webhook on PostgreSQL against SQLite (one instance each), req/s;
// 2. three instances on one PostgreSQL database against one instance, on this same machine
//    (autocannon spreads its connections over the three).
// Every request is a new receipt for one user (a real insert plus the idempotency claim and
// completion in the same database). PostgreSQL: DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test
// (a fresh database per variant, dropped after).
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import pg from 'pg'
import { receiptBody } from './fixtures.js'

const MAIN = fileURLToPath(new URL('../examples/koa-app/src/main.ts', import.meta.url))
const APP_TOKEN = 'bench-app-token-3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f'
const SECRET = 'bench-user-token-secret-that-is-long-enough-0123456789'
const ADMIN_URL = process.env.DATABASE_URL?.trim() || 'postgres://postgres@127.0.0.1:5432/test'

/** Options of {@link runExampleAppBench}. */
export interface ExampleAppBenchOptions {
  rounds: number
  duration: number
  connections: number
  warmup: number
  log?: (line: string) => void
}

export type ExampleVariant = 'sqlite x1' | 'postgres x1' | 'postgres x3'

/** Median req/s and p99 per variant, and the ratios asked for. */
export interface ExampleAppBenchResult {
  variants: Array<{ variant: ExampleVariant; rps: number; p99: number; non2xx: number; errors: number }>
  /** PostgreSQL x1 req/s / SQLite x1 req/s. */
  postgresVsSqlite: number
  /** PostgreSQL x3 req/s / PostgreSQL x1 req/s (same machine: the instances share its cores). */
  threeVsOne: number
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

async function admin(query: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL })
  await client.connect()
  try {
    await client.query(query)
  } finally {
    await client.end()
  }
}

interface Running {
  urls: string[]
  stop(): Promise<void>
}

async function start(count: number, env: Record<string, string>): Promise<Running> {
  const children: ChildProcess[] = []
  const urls: string[] = []
  const launch = async (): Promise<void> => {
    const port = await freePort()
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
      env: {
        ...process.env,
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        PORT: String(port),
        EVOTOR_APP_TOKEN: APP_TOKEN,
        USER_TOKEN_SECRET: SECRET,
        LOG_LEVEL: 'error',
        ...env,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    })
    children.push(child)
    const url = `http://127.0.0.1:${port}`
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${url}/health`)).ok) break
      } catch {}
      if (i > 600) throw new Error('bench/example-app: the app did not start')
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    urls.push(url)
  }
  await launch() // the first one migrates
  await Promise.all(Array.from({ length: count - 1 }, launch))
  return {
    urls,
    async stop() {
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null) return resolve()
              child.once('exit', () => resolve())
              child.kill('SIGTERM')
            }),
        ),
      )
    },
  }
}

async function tokenFor(url: string, userId: string): Promise<string> {
  const response = await fetch(`${url}/api/v1/user/create`, {
    method: 'POST',
    headers: { authorization: `Bearer ${APP_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ userId }),
  })
  return ((await response.json()) as { token: string }).token
}

// The spec's receipt event with a new id each time, for the user of the token.
function receipt(userId: string, id: string): string {
  return JSON.stringify({ ...(JSON.parse(receiptBody(id)) as Record<string, unknown>), userId })
}

async function load(
  urls: readonly string[],
  token: string,
  userId: string,
  duration: number,
  connections: number,
  run: string,
): Promise<{ rps: number; p99: number; non2xx: number; errors: number }> {
  let sequence = 0
  const per = Math.max(1, Math.round(connections / urls.length))
  const results = await Promise.all(
    urls.map((url, index) =>
      autocannon({
        url: `${url}/api/v2/receipts`,
        connections: per,
        duration,
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        requests: [
          {
            method: 'POST',
            path: '/api/v2/receipts',
            setupRequest: (request) => ({
              ...request,
              body: receipt(userId, `${run}-${index}-${(sequence++).toString(36)}`),
            }),
          },
        ],
      }),
    ),
  )
  return {
    rps: results.reduce((sum, r) => sum + r.requests.average, 0),
    p99: Math.max(...results.map((r) => r.latency.p99)),
    non2xx: results.reduce((sum, r) => sum + r.non2xx, 0),
    errors: results.reduce((sum, r) => sum + r.errors, 0),
  }
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN
}

/**
 * Runs the three variants, interleaved round by round.
 *
 * @param options - rounds, seconds per round, connections, warm-up seconds
 * @returns req/s per variant and the two ratios
 * @example
 * ```ts
 * const r = await runExampleAppBench({ rounds: 3, duration: 3, connections: 30, warmup: 1 })
 * console.log(r.postgresVsSqlite, r.threeVsOne)
 * ```
 */
export async function runExampleAppBench(options: ExampleAppBenchOptions): Promise<ExampleAppBenchResult> {
  const log = options.log ?? (() => {})
  const dir = mkdtempSync(join(tmpdir(), 'ep-bench-app-'))
  const databases: string[] = []
  const pgUrl = async (): Promise<string> => {
    const name = `ep_bench_${randomBytes(6).toString('hex')}`
    await admin(`CREATE DATABASE ${name}`)
    databases.push(name)
    const url = new URL(ADMIN_URL)
    url.pathname = `/${name}`
    return url.toString()
  }
  const specs: Array<{ variant: ExampleVariant; count: number; env: () => Promise<Record<string, string>> }> =
    [
      { variant: 'sqlite x1', count: 1, env: async () => ({ DATABASE_PATH: join(dir, 'app.sqlite') }) },
      { variant: 'postgres x1', count: 1, env: async () => ({ DATABASE_URL: await pgUrl() }) },
      { variant: 'postgres x3', count: 3, env: async () => ({ DATABASE_URL: await pgUrl() }) },
    ]
  const samples = new Map<
    ExampleVariant,
    Array<{ rps: number; p99: number; non2xx: number; errors: number }>
  >()
  try {
    const running = []
    for (const spec of specs) {
      log(`example app: starting ${spec.variant}…`)
      const app = await start(spec.count, await spec.env())
      const userId = `01-${Date.now().toString().padStart(15, '0').slice(-15)}`
      const token = await tokenFor(app.urls[0] as string, userId)
      running.push({ spec, app, userId, token })
    }
    try {
      for (const r of running) {
        await load(r.app.urls, r.token, r.userId, options.warmup, options.connections, 'warm')
      }
      for (let round = 0; round < options.rounds; round++) {
        for (const r of running) {
          log(`example app: ${r.spec.variant}, round ${round + 1}/${options.rounds}`)
          const result = await load(
            r.app.urls,
            r.token,
            r.userId,
            options.duration,
            options.connections,
            `r${round}`,
          )
          samples.set(r.spec.variant, [...(samples.get(r.spec.variant) ?? []), result])
        }
      }
    } finally {
      await Promise.all(running.map((r) => r.app.stop()))
    }
  } finally {
    for (const name of databases) await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {})
    rmSync(dir, { recursive: true, force: true })
  }
  const variants = specs.map(({ variant }) => {
    const list = samples.get(variant) ?? []
    return {
      variant,
      rps: median(list.map((s) => s.rps)),
      p99: median(list.map((s) => s.p99)),
      non2xx: list.reduce((sum, s) => sum + s.non2xx, 0),
      errors: list.reduce((sum, s) => sum + s.errors, 0),
    }
  })
  const rps = (v: ExampleVariant): number => variants.find((x) => x.variant === v)?.rps ?? Number.NaN
  return {
    variants,
    postgresVsSqlite: rps('postgres x1') / rps('sqlite x1'),
    threeVsOne: rps('postgres x3') / rps('postgres x1'),
  }
}
