// Memory under many distinct tokens. Each mode runs in its own child process started with
// --expose-gc (bench/run.ts forks this file with argv[2] = 'signed' | 'opaque'), so the two do not
// share a heap. Requests go through the real Koa middleware (`evotorProxy` of the built package)
// in-process: the HTTP stack would only add time, not memory that the library holds.
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import type { Context, Next } from 'koa'
import { loadKoaAdapter, loadLib, routeBody, STORE_UUID, TOKEN_SECRET } from './fixtures.js'

/** Heap and RSS at one point, after a forced GC. */
export interface MemoryPoint {
  requests: number
  heapUsedMb: number
  rssMb: number
  cacheSize: number
}

/** One mode of the memory bench. */
export interface MemoryResult {
  mode: 'signed' | 'opaque'
  description: string
  cacheMax: number
  baseline: MemoryPoint
  points: MemoryPoint[]
  /** Heap growth from the first checkpoint to the last, MB. */
  heapGrowthMb: number
  /** Cache size never above its max, and heap roughly flat between checkpoints. */
  bounded: boolean
}

const MB = 1024 * 1024
const CACHE_MAX = 10_000

function userIdOf(i: number): string {
  return `01-${String(i).padStart(15, '0')}`
}

async function measure(mode: 'signed' | 'opaque', checkpoints: readonly number[]): Promise<MemoryResult> {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error('bench/memory: run with --expose-gc')
  const lib = await loadLib()
  const { evotorProxy } = await loadKoaAdapter()
  const issuer = lib.createUserTokens({ secret: TOKEN_SECRET, cache: false })
  const verifier =
    mode === 'signed'
      ? lib.createUserTokens({ secret: TOKEN_SECRET, cache: { max: CACHE_MAX } })
      : lib.createUserTokenLookup({
          // An opaque token `op_<n>_<padding>` belongs to user n (a stand-in for a database read).
          lookup: (token) => userIdOf(Number(token.split('_')[1])),
          cache: { max: CACHE_MAX },
        })
  const middleware = evotorProxy({ userTokens: verifier })
  const next: Next = async () => {}
  const padding = 'p'.repeat(60)
  let failures = 0

  async function request(i: number): Promise<void> {
    const userId = userIdOf(i)
    const token = mode === 'signed' ? await issuer.issue(userId) : `op_${i}_${padding}`
    const ctx = {
      headers: {
        host: 'partner.example',
        authorization: `Bearer ${token}`,
        'x-evotor-store-uuid': STORE_UUID,
        'x-evotor-device-uuid': '1022722e-9441-4beb-beae-c6bc5e7af30d',
        'x-evotor-user-id': userId,
      },
      state: {} as Record<string, unknown>,
      req: {},
      body: undefined as unknown,
      status: 404,
    }
    await middleware(ctx as unknown as Context, async () => {
      await next()
      ctx.body = routeBody(userId, STORE_UUID)
      ctx.status = 200
    })
    if (ctx.status !== 200) failures++
  }

  function point(requests: number): MemoryPoint {
    gc?.()
    gc?.()
    const usage = process.memoryUsage()
    return { requests, heapUsedMb: usage.heapUsed / MB, rssMb: usage.rss / MB, cacheSize: verifier.size }
  }

  // Warm up the code paths with a few tokens, then forget them.
  for (let i = 0; i < 100; i++) await request(10_000_000 + i)
  verifier.clear()
  const baseline = point(0)
  const points: MemoryPoint[] = []
  const last = checkpoints[checkpoints.length - 1] ?? 0
  for (let i = 1; i <= last; i++) {
    await request(i)
    if (checkpoints.includes(i)) points.push(point(i))
  }
  if (failures > 0) throw new Error(`bench/memory: ${failures} requests were rejected`)
  const first = points[0]!
  const final = points[points.length - 1]!
  const heapGrowthMb = final.heapUsedMb - first.heapUsedMb
  return {
    mode,
    description:
      mode === 'signed'
        ? `createUserTokens (cache max ${CACHE_MAX}), ${last.toLocaleString('en')} distinct signed tokens and users`
        : `createUserTokenLookup (cache max ${CACHE_MAX}), ${last.toLocaleString('en')} distinct opaque tokens and users`,
    cacheMax: CACHE_MAX,
    baseline,
    points,
    heapGrowthMb,
    // Flat: a cache bounded by token count would grow ~9x its 10k footprint between the checkpoints.
    bounded:
      points.every((p) => p.cacheSize <= CACHE_MAX) &&
      heapGrowthMb <= Math.max(2, 0.1 * (first.heapUsedMb - baseline.heapUsedMb)),
  }
}

/** Runs one mode in a child process with `--expose-gc`. */
export async function runMemory(
  mode: 'signed' | 'opaque',
  checkpoints: readonly number[] = [10_000, 100_000],
): Promise<MemoryResult> {
  const child = fork(fileURLToPath(import.meta.url), [mode, checkpoints.join(',')], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const [message] = (await once(child, 'message')) as [{ result?: MemoryResult; error?: string }]
  await once(child, 'exit')
  if (message.result === undefined) throw new Error(`bench/memory (${mode}): ${message.error}`)
  return message.result
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.send !== undefined) {
  const mode = process.argv[2] === 'opaque' ? 'opaque' : 'signed'
  const checkpoints = (process.argv[3] ?? '10000,100000').split(',').map(Number)
  measure(mode, checkpoints).then(
    (result) => process.send?.({ result }, () => process.exit(0)),
    (error: unknown) => process.send?.({ error: String(error) }, () => process.exit(1)),
  )
}
