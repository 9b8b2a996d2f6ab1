// Real Redis servers for the store tests: REDIS_URL, else 127.0.0.1:6379, else a throwaway
// redis-server in a temporary folder on a free port. No mocks, no skipped suites: when none of
// these is possible the tests fail and say what to install.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis, type RedisOptions } from 'ioredis'
import { afterAll, beforeAll } from 'vitest'

const DEFAULT_URL = 'redis://127.0.0.1:6379'

/** Whether a Redis server answers PING at `url` within a second. */
async function answers(url: string): Promise<boolean> {
  const probe = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  })
  probe.on('error', () => {})
  try {
    await probe.connect()
    return (await probe.ping()) === 'PONG'
  } catch {
    return false
  } finally {
    probe.disconnect()
  }
}

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no free port')
  return address.port
}

function redisServerInstalled(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0
}

/** A redis-server this test process started, on its own port and folder; stop/start at will. */
export interface ThrowawayRedis {
  readonly url: string
  readonly port: number
  /** Kills the server (SIGKILL: a crash, not a shutdown). Resolves when it has exited. */
  stop(): Promise<void>
  /** Starts it again on the same port; resolves when it answers. */
  start(): Promise<void>
  /** Stops it and removes its folder. */
  dispose(): Promise<void>
}

/**
 * Starts a throwaway redis-server on a free port in a temporary folder (nothing saved to disk).
 * Fails, naming the package, when redis-server is not installed.
 */
export async function startThrowawayRedis(): Promise<ThrowawayRedis> {
  if (!redisServerInstalled()) {
    throw new Error(
      'redis-server is not installed: install it (Debian: apt-get install -y redis-server) or set REDIS_URL',
    )
  }
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'evotor-redis-'))
  const url = `redis://127.0.0.1:${port}`
  let child: ChildProcess | undefined

  const start = async (): Promise<void> => {
    if (child !== undefined) return
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--enable-debug-command',
      'local',
    ]
    const started = spawn('redis-server', [...args, '--dir', dir], { stdio: 'ignore' })
    child = started
    started.once('exit', () => {
      if (child === started) child = undefined
    })
    const until = Date.now() + 10_000
    while (!(await answers(url))) {
      if (Date.now() > until) throw new Error(`redis-server on port ${port} did not answer within 10 s`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  const stop = async (): Promise<void> => {
    const running = child
    if (running === undefined) return
    child = undefined
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve())
      running.kill('SIGKILL')
    })
  }
  await start()
  return {
    url,
    port,
    start,
    stop,
    async dispose() {
      await stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

let shared: Promise<{ url: string; dispose: () => Promise<void> }> | undefined

/**
 * The Redis the tests share: REDIS_URL, else 127.0.0.1:6379 when it answers, else a throwaway
 * server (kept for the rest of this test file's process).
 */
export function sharedRedisUrl(): Promise<string> {
  shared ??= (async () => {
    const url = process.env.REDIS_URL ?? DEFAULT_URL
    if (await answers(url)) return { url, dispose: async () => {} }
    if (process.env.REDIS_URL !== undefined) {
      throw new Error(`REDIS_URL is set but nothing answers there: start that Redis or unset REDIS_URL`)
    }
    const server = await startThrowawayRedis()
    return { url: server.url, dispose: () => server.dispose() }
  })()
  return shared.then((s) => s.url)
}

/** Stops the throwaway server `sharedRedisUrl` may have started (call in afterAll). */
export async function disposeSharedRedis(): Promise<void> {
  const current = shared
  shared = undefined
  if (current !== undefined) await (await current).dispose()
}

/** A client as an application would make one; closed by `closeAll`. */
export function connect(url: string, options: Pick<RedisOptions, 'lazyConnect'> = {}): Redis {
  const client = new Redis(url, options.lazyConnect === true ? { lazyConnect: true } : {})
  // An application listens for errors; the stores never add listeners to the client they are given.
  client.on('error', () => {})
  opened.add(client)
  return client
}

const opened = new Set<Redis>()

/** Disconnects every client made by `connect`. */
export function closeAll(): void {
  for (const client of opened) client.disconnect()
  opened.clear()
}

const prefixes = new Set<string>()

/** A key prefix no other test (or test run sharing this Redis) uses; its keys go in `removeTestKeys`. */
export function uniquePrefix(): string {
  const prefix = `evotor-partner-test:${randomUUID()}:`
  prefixes.add(prefix)
  return prefix
}

/** Deletes every key under the prefixes this file handed out (call in afterAll, before closeAll). */
export async function removeTestKeys(client: Redis): Promise<void> {
  for (const prefix of prefixes) {
    let cursor = '0'
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      cursor = next
      if (keys.length > 0) await client.del(...keys)
    } while (cursor !== '0')
  }
  prefixes.clear()
}

/** Waits until `client` is ready (connected and past its handshake). */
export async function ready(client: Redis, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (client.status !== 'ready') {
    if (Date.now() > until) throw new Error(`redis client not ready after ${timeoutMs} ms (${client.status})`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** The shared Redis of one test file, once its `beforeAll` has run: its URL and an admin client. */
export interface SharedRedis {
  readonly url: string
  readonly admin: Redis
}

/**
 * Registers the usual `beforeAll`/`afterAll` of a test file on the shared Redis: connects an admin
 * client and waits for it; afterwards runs `beforeClose` (servers, instances), removes the file's
 * keys, disconnects every client and stops a throwaway server. Read the fields inside tests/hooks.
 */
export function useSharedRedis(options: { beforeClose?: () => Promise<void> } = {}): SharedRedis {
  let current: SharedRedis | undefined
  const get = (): SharedRedis => {
    if (current === undefined) throw new Error('useSharedRedis: read url/admin inside a test or hook')
    return current
  }
  beforeAll(async () => {
    const url = await sharedRedisUrl()
    const admin = connect(url)
    await ready(admin)
    current = { url, admin }
  })
  afterAll(async () => {
    await options.beforeClose?.()
    if (current !== undefined) await removeTestKeys(current.admin)
    closeAll()
    await disposeSharedRedis()
  })
  return {
    get url() {
      return get().url
    },
    get admin() {
      return get().admin
    },
  }
}
