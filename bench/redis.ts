// The receipts webhook with the Redis stores (evotor-partner/redis) against the default memory
// stores, in one interleaved run: the same Koa server code, one child process each, autocannon
// from this process. Each request carries a new receipt id, so every delivery claims and completes
// a key (two Redis round trips on the Redis variant, auto-pipelined as the README recommends).
// Redis: REDIS_URL, else 127.0.0.1:6379.
import { type ChildProcess, fork } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { fileURLToPath, pathToFileURL } from 'node:url'
import autocannon from 'autocannon'
import { APP_BEARER, loadKoaAdapter, loadLib, receiptBody, TOKEN_SECRET, USER_ID } from './fixtures.js'

type RedisLib = typeof import('../src/stores/redis.js')
type Store = 'memory' | 'redis'
const STORES: readonly Store[] = ['memory', 'redis']
const PATH = '/api/v2/receipts'
const ID = 'ID_PLACEHOLDER_9q2w'

/** Options of {@link runRedisBench}. */
export interface RedisBenchOptions {
  rounds: number
  duration: number
  connections: number
  warmup: number
  log?: (line: string) => void
}

/** One store over all rounds. */
export interface RedisBenchVariant {
  store: Store
  rps: number[]
  p99: number[]
  /** Server CPU µs per request, per round. */
  cpuPerRequest: number[]
  non2xx: number
  errors: number
}

/** What {@link runRedisBench} measured. */
export interface RedisBenchResult {
  redisUrl: string
  variants: RedisBenchVariant[]
  /** Mean req/s with Redis / mean req/s with memory. */
  ratio: number
  /** Server CPU per request, memory / Redis. */
  cpuRatio: number
}

function redisUrl(): string {
  return process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
}

async function loadRedisLib(): Promise<RedisLib> {
  const dist = process.env.EVOTOR_BENCH_DIST
    ? pathToFileURL(`${process.env.EVOTOR_BENCH_DIST.replace(/\/$/, '')}/`)
    : new URL('../dist/', import.meta.url)
  const entry = new URL('redis.js', dist)
  if (!existsSync(entry)) throw new Error(`bench: ${fileURLToPath(entry)} is missing; run \`npm run build\``)
  return (await import(entry.href)) as RedisLib
}

// ---- the server child -------------------------------------------------------------------

async function serve(store: Store): Promise<void> {
  const [lib, adapter, { default: Koa }, { Redis }] = await Promise.all([
    loadLib(),
    loadKoaAdapter(),
    import('koa'),
    import('ioredis'),
  ])
  const prefix = `evotor-partner-bench:${randomUUID()}:`
  let client: InstanceType<typeof Redis> | undefined
  let stores = {}
  let isRevoked: ((token: { userId: string; issuedAt: Date }) => Promise<boolean>) | undefined
  if (store === 'redis') {
    const redis = await loadRedisLib()
    // The client options the README recommends for the stores.
    client = new Redis(redisUrl(), { maxRetriesPerRequest: 1, enableAutoPipelining: true })
    client.on('error', () => {})
    await client.ping()
    const common = { client, prefix, commandTimeoutMs: 2_000 }
    stores = {
      idempotency: redis.createRedisIdempotencyStore({ ...common, completedTtlMs: 10 * 60_000 }),
      ordering: { store: redis.createRedisSequenceStore(common) },
    }
    isRevoked = redis.createRedisRevocations(common).isRevoked
  }
  const userTokens = lib.createUserTokens({
    secret: TOKEN_SECRET,
    ...(isRevoked === undefined ? {} : { isRevoked }),
  })
  const webhooks = lib.createEvotorWebhooks({
    appCredential: { bearer: [APP_BEARER] },
    userTokens,
    ...stores,
    handlers: { receipts: async () => {} },
  })
  const app = new Koa()
  app.use(adapter.evotorWebhooks(webhooks))
  const { createServer } = await import('node:http')
  const server = createServer({ keepAliveTimeout: 60_000 }, app.callback())
  server.listen(0, '127.0.0.1', () => {
    process.send?.({ type: 'ready', port: (server.address() as AddressInfo).port })
  })
  const stop = async (): Promise<void> => {
    server.closeAllConnections()
    server.close()
    if (client !== undefined) {
      // Leave nothing behind on a shared Redis.
      let cursor = '0'
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 5000)
        cursor = next
        if (keys.length > 0) await client.unlink(...keys)
      } while (cursor !== '0')
      client.disconnect()
    }
    process.exit(0)
  }
  process.on('message', (message) => {
    if (message === 'cpu') {
      const { user, system } = process.cpuUsage()
      process.send?.({ type: 'cpu', micros: user + system })
    }
    if (message === 'stop') void stop()
  })
  process.on('disconnect', () => process.exit(0))
}

// ---- the parent ------------------------------------------------------------------------

interface Child {
  store: Store
  child: ChildProcess
  port: number
}

async function start(store: Store): Promise<Child> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', store], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const [message] = (await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(() => [{ type: 'exit' }]),
  ])) as [{ type: string; port?: number }]
  if (message.type !== 'ready' || message.port === undefined) {
    throw new Error(
      `bench redis: the ${store} server did not start (is Redis running at ${redisUrl()}? set REDIS_URL)`,
    )
  }
  return { store, child, port: message.port }
}

async function cpuOf(child: Child): Promise<number> {
  const reply = once(child.child, 'message') as Promise<[{ type: string; micros: number }]>
  child.child.send('cpu')
  return (await reply)[0].micros
}

let sequence = 0
async function load(
  child: Child,
  token: string,
  connections: number,
  duration: number,
): Promise<{ rps: number; p99: number; cpu: number; non2xx: number; errors: number }> {
  const parts = receiptBody(ID).split(ID)
  const run = `${process.pid.toString(36)}${Date.now().toString(36)}`
  const before = await cpuOf(child)
  const result = await autocannon({
    url: `http://127.0.0.1:${child.port}${PATH}`,
    connections,
    duration,
    requests: [
      {
        method: 'POST',
        path: PATH,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        setupRequest: (request) => ({ ...request, body: parts.join(`${run}-${(sequence++).toString(36)}`) }),
      },
    ],
  })
  const cpu = (await cpuOf(child)) - before
  return {
    rps: result.requests.total / result.duration,
    p99: result.latency.p99,
    cpu: cpu / Math.max(1, result.requests.total),
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  }
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)

/**
 * Runs both servers, warms each up, then alternates them round by round (the order flips every
 * round) so that machine drift hits both alike.
 */
export async function runRedisBench(options: RedisBenchOptions): Promise<RedisBenchResult> {
  const log = options.log ?? (() => {})
  const lib = await loadLib()
  const token = await lib.createUserTokens({ secret: TOKEN_SECRET }).issue(USER_ID)
  const children: Child[] = []
  try {
    for (const store of STORES) children.push(await start(store))
    const variants = new Map<Store, RedisBenchVariant>(
      STORES.map((store) => [store, { store, rps: [], p99: [], cpuPerRequest: [], non2xx: 0, errors: 0 }]),
    )
    for (const child of children) {
      if (options.warmup > 0) await load(child, token, options.connections, options.warmup)
    }
    for (let r = 0; r < options.rounds; r++) {
      const order = r % 2 === 0 ? children : [...children].reverse()
      for (const child of order) {
        const round = await load(child, token, options.connections, options.duration)
        const v = variants.get(child.store)!
        v.rps.push(round.rps)
        v.p99.push(round.p99)
        v.cpuPerRequest.push(round.cpu)
        v.non2xx += round.non2xx
        v.errors += round.errors
        log(
          `  round ${r + 1}/${options.rounds} receipts, ${child.store.padEnd(6)} store ${Math.round(round.rps)} req/s  p99 ${round.p99} ms  server ${round.cpu.toFixed(1)} µs/req`,
        )
      }
    }
    const memory = variants.get('memory')!
    const redis = variants.get('redis')!
    return {
      redisUrl: redisUrl().replace(/\/\/[^@/]*@/, '//***@'),
      variants: [memory, redis],
      ratio: mean(redis.rps) / mean(memory.rps),
      cpuRatio: mean(memory.cpuPerRequest) / mean(redis.cpuPerRequest),
    }
  } finally {
    await Promise.all(
      children.map(async ({ child }) => {
        if (child.exitCode !== null) return
        const exited = once(child, 'exit')
        child.send('stop')
        await exited
      }),
    )
  }
}

/** Rows for the printed table: store, mean req/s, mean p99, server µs/req, vs memory. */
export function redisBenchRows(result: RedisBenchResult): string[][] {
  const base = mean(result.variants[0]?.rps ?? [])
  return result.variants.map((v) => [
    `Koa webhook POST receipts, new ids, ${v.store} stores`,
    Math.round(mean(v.rps)).toLocaleString('en'),
    mean(v.p99).toFixed(2),
    mean(v.cpuPerRequest).toFixed(1),
    (mean(v.rps) / base).toFixed(2),
    String(v.non2xx + v.errors),
  ])
}

if (process.argv[2] === '--serve') {
  serve(process.argv[3] as Store).catch((error: unknown) => {
    console.error(error)
    process.exit(1)
  })
}
