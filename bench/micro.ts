import { Bench } from 'tinybench'
import {
  APP_BASIC,
  APP_BEARER,
  DEVICE_UUID,
  documents,
  loadLib,
  loadProtocol,
  products,
  proxyHeaders,
  STORE_UUID,
  TOKEN_SECRET,
  USER_ID,
} from './fixtures.js'

/** One micro benchmark. */
export interface MicroResult {
  name: string
  /** Operations per second (one operation = one call, not one batch). */
  opsPerSec: number
  /** Mean time of one operation, ms. */
  meanMs: number
  /** Calls per measured iteration (fast operations are batched so the timer does not dominate). */
  batch: number
  samples: number
  /** Relative margin of error of the per-iteration latency, %. */
  rme: number
}

/** Options of {@link runMicro}. */
export interface MicroOptions {
  /** Time budget per task, ms. */
  time: number
  log?: (line: string) => void
}

let sink = 0

/** Node's `IncomingHttpHeaders` of a proxied request: lower-case keys, a few other headers. */
function nodeHeaders(token: string): Record<string, string> {
  return {
    host: 'partner.example:443',
    'user-agent': 'okhttp/3.12.1',
    'accept-encoding': 'gzip',
    connection: 'keep-alive',
    ...proxyHeaders(token),
    'x-request-id': '6f1c2b0e-2d5e-4c43-9a0f-5d8f4b9a1e77',
  }
}

/**
 * Micro benchmarks of the hot functions of the built package, with tinybench. Functions that
 * take well under a microsecond run `batch` times per iteration.
 */
export async function runMicro(options: MicroOptions): Promise<MicroResult[]> {
  const lib = await loadLib()
  const protocol = await loadProtocol()
  const tokens = lib.createUserTokens({ secret: TOKEN_SECRET })
  const uncached = lib.createUserTokens({ secret: TOKEN_SECRET, cache: false })
  const token = await tokens.issue(USER_ID)
  await tokens.verify(token)
  const opaque = `opaque_${'x'.repeat(40)}`
  const lookup = lib.createUserTokenLookup({ lookup: (t) => (t === opaque ? USER_ID : null) })
  await lookup.verify(opaque)
  const app = lib.createAppCredentialVerifier({ bearer: [APP_BEARER], basic: [APP_BASIC] })
  const basic = `Basic ${Buffer.from(`${APP_BASIC.username}:${APP_BASIC.password}`).toString('base64')}`
  const bearer = `Bearer ${APP_BEARER}`
  if (!app.verify(basic) || !app.verify(bearer)) throw new Error('micro: app credentials do not verify')
  const headers = nodeHeaders(token)
  const proxy = lib.createEvotorProxy({ userTokens: tokens })
  const authenticated = await proxy.authenticate(headers)
  if (authenticated.storeUuid !== STORE_UUID || authenticated.deviceUuid !== DEVICE_UUID) {
    throw new Error('micro: proxy.authenticate did not read the headers')
  }
  const productSchema = protocol.EVOTOR_ROUTES.products.request
  const documentSchema = protocol.EVOTOR_ROUTES.documents.request
  const productList = products(1000)
  const documentList = documents(100)
  if (lib.parseIncoming(productSchema, productList).length !== 1000) throw new Error('micro: products')
  if (lib.parseIncoming(documentSchema, documentList).length !== 100) throw new Error('micro: documents')

  const bench = new Bench({ time: options.time, warmupTime: Math.min(500, options.time / 2) })
  const batches = new Map<string, number>()
  const sync = (name: string, batch: number, fn: () => unknown): void => {
    batches.set(name, batch)
    bench.add(
      name,
      () => {
        for (let i = 0; i < batch; i++) if (fn()) sink++
      },
      { async: false },
    )
  }
  const async = (name: string, batch: number, fn: () => Promise<unknown>): void => {
    batches.set(name, batch)
    bench.add(
      name,
      async () => {
        for (let i = 0; i < batch; i++) if (await fn()) sink++
      },
      { async: true },
    )
  }

  sync('parseEvotorHeaders', 1000, () => lib.parseEvotorHeaders(headers))
  sync('app credential: Basic', 100, () => app.verify(basic))
  sync('app credential: Bearer', 100, () => app.verify(bearer))
  async('user token: verify uncached', 10, () => uncached.verify(token))
  async('user token: verify cached', 1000, () => tokens.verify(token))
  async('opaque token: lookup cache hit', 1000, () => lookup.verify(opaque))
  async('proxy.authenticate (cached token)', 1000, () => proxy.authenticate(headers))
  sync('validate 1,000 products', 1, () => lib.parseIncoming(productSchema, productList))
  sync('validate 100 v1 documents', 1, () => lib.parseIncoming(documentSchema, documentList))

  await bench.run()
  return bench.tasks.map((task) => {
    const result = task.result
    if (result.state !== 'completed') {
      throw new Error(`micro: ${task.name} ${result.state}${'error' in result ? `: ${result.error}` : ''}`)
    }
    const batch = batches.get(task.name) ?? 1
    const meanMs = result.period / batch
    const out: MicroResult = {
      name: task.name,
      opsPerSec: 1000 / meanMs,
      meanMs,
      batch,
      samples: result.latency.samplesCount,
      rme: result.latency.rme,
    }
    options.log?.(
      `  ${out.name.padEnd(36)} ${Math.round(out.opsPerSec)} ops/s  ${out.meanMs.toPrecision(3)} ms`,
    )
    return out
  })
}

/** Keeps results observable so no call is optimised away. */
export function microSink(): number {
  return sink
}
