// Server instructions per request under `valgrind --tool=callgrind`: a measure that does not depend
// on wall time or on what else the machine runs. Each variant's server runs under callgrind; after
// a warm-up (JIT tiers up, lazy code is compiled; start-up and warm-up run uninstrumented,
// `--instr-atstart=no`, which is several times faster) instrumentation is switched on and the
// counters are zeroed (`callgrind_control -i on`, `-z`),
// a fixed number of requests is sent over one connection (one request per event-loop turn, so the
// count does not depend on how requests happen to batch), and the counters are dumped
// (`callgrind_control -d`). Every variant runs twice, in separate processes; the two must agree
// within 1%.
import { execFile } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import autocannon from 'autocannon'
import { loadLib, TOKEN_SECRET, USER_ID } from './fixtures.js'
import { check, requestFor, startServer, stopServer, uniqueRequest } from './http.js'
import { baselineOf, postBaselineOf, type Variant } from './variants.js'

const run = promisify(execFile)

/** Options of {@link runCallgrind}. */
export interface CallgrindOptions {
  variants: readonly Variant[]
  /** Requests before the counters are zeroed. */
  warmup: number
  /** Requests counted. */
  requests: number
  /** Runs per variant (separate processes). */
  runs: number
  /** Servers under callgrind at the same time (each is single-threaded under valgrind). */
  parallel: number
  log?: (line: string) => void
}

/** One variant: instructions per request of each run. */
export interface CallgrindResult {
  variant: Variant
  baseline: Variant
  /** Server instructions (Ir, all threads) per request, one per run. */
  perRequest: number[]
  /** Mean of the runs. */
  mean: number
  /** (max - min) / mean of the runs, %. */
  spreadPct: number
  /** Baseline's instructions per request / this variant's (1 = as cheap as bare; < 1 costs more). */
  ratio: number
  /** Webhooks: the bare POST route's instructions per request / this variant's, when it was measured. */
  postRatio?: number
}

async function send(port: number, spec: ReturnType<typeof requestFor>, amount: number): Promise<void> {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}${spec.path}`,
    method: spec.method,
    headers: spec.headers,
    connections: 1,
    amount,
    timeout: 60,
    ...(spec.body === undefined ? {} : { body: spec.body }),
    // Webhook variants with new ids: a distinct body per request, as in the HTTP runs.
    ...(spec.unique === undefined ? {} : { requests: [uniqueRequest(spec, spec.unique)] }),
  })
  // autocannon may count the last response of an `amount` run one short; the server served them all.
  if (result.non2xx + result.errors + result.timeouts > 0 || result.requests.total < amount - 1) {
    throw new Error(`callgrind: ${result.requests.total}/${amount} requests, ${result.non2xx} non-2xx`)
  }
}

function totalsOf(dir: string): number {
  // The dump of `callgrind_control -d` is `<out-file>.1`; the file without a suffix is the exit dump.
  const file = readdirSync(dir).find((name) => /\.1$/.test(name))
  if (file === undefined) throw new Error(`callgrind: no dump in ${dir}`)
  const text = readFileSync(join(dir, file), 'utf8')
  const match = /^(?:totals|summary): (\d+)/m.exec(text)
  if (match === null) throw new Error(`callgrind: no totals in ${file}`)
  return Number(match[1])
}

async function measure(
  variant: Variant,
  index: number,
  token: string,
  options: CallgrindOptions,
): Promise<number> {
  const dir = fileURLToPath(new URL(`./callgrind/${variant}.${index}/`, import.meta.url))
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const wrap = [
    'valgrind',
    '-q',
    '--tool=callgrind',
    '--instr-atstart=no',
    `--callgrind-out-file=${join(dir, 'callgrind.out')}`,
  ]
  const server = await startServer(variant, undefined, { pin: false, wrap })
  try {
    const spec = requestFor(variant, token)
    await check(variant, server.port, spec)
    await send(server.port, spec, options.warmup)
    const pid = String(server.child.pid)
    await run('callgrind_control', ['-i', 'on', pid])
    await run('callgrind_control', ['-z', pid])
    await send(server.port, spec, options.requests)
    await run('callgrind_control', ['-d', pid])
    const perRequest = totalsOf(dir) / options.requests
    options.log?.(
      `  callgrind ${variant} run ${index + 1}: ${Math.round(perRequest).toLocaleString('en')} Ir/request`,
    )
    return perRequest
  } finally {
    await stopServer(server)
  }
}

/** Whether valgrind and callgrind_control are installed. */
export async function hasCallgrind(): Promise<boolean> {
  try {
    await run('valgrind', ['--version'])
    await run('callgrind_control', ['-h'])
    return true
  } catch {
    return false
  }
}

/** Measures every variant `runs` times, `parallel` servers at a time. */
export async function runCallgrind(options: CallgrindOptions): Promise<CallgrindResult[]> {
  const lib = await loadLib()
  const token = await lib.createUserTokens({ secret: TOKEN_SECRET }).issue(USER_ID)
  const jobs = options.variants.flatMap((variant) =>
    Array.from({ length: options.runs }, (_, index) => ({ variant, index })),
  )
  const measured = new Map<Variant, number[]>()
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const job = jobs[next++]!
      const value = await measure(job.variant, job.index, token, options)
      measured.set(job.variant, [...(measured.get(job.variant) ?? []), value])
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, options.parallel) }, worker))
  const meanOf = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length
  return options.variants.map((variant) => {
    const perRequest = measured.get(variant) ?? []
    const mean = meanOf(perRequest)
    const base = meanOf(measured.get(baselineOf(variant)) ?? [])
    const postBaseline = postBaselineOf(variant)
    const post = postBaseline === undefined ? undefined : measured.get(postBaseline)
    return {
      variant,
      baseline: baselineOf(variant),
      perRequest,
      mean,
      spreadPct: ((Math.max(...perRequest) - Math.min(...perRequest)) / mean) * 100,
      ratio: base / mean,
      ...(post === undefined ? {} : { postRatio: meanOf(post) / mean }),
    }
  })
}
