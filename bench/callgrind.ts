// Server (main-thread) instructions per request under `valgrind --tool=callgrind`: a measure that does not depend
// on wall time or on what else the machine runs. Each variant's server runs under callgrind; after
// a warm-up (JIT tiers up, lazy code is compiled), a full GC and a second warm-up (code the GC
// deoptimised is optimised again; start-up and both warm-ups run uninstrumented,
// `--instr-atstart=no`, which is several times faster) instrumentation is switched on and the
// counters are zeroed (`callgrind_control -i on`, `-z`),
// a fixed number of requests is sent over one connection (one request per event-loop turn, so the
// count does not depend on how requests happen to batch), and the counters are dumped
// (`callgrind_control -d`). Every variant runs twice, in separate processes; the two must agree
// within 1%.
import { execFile } from 'node:child_process'
import { once } from 'node:events'
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
  /**
   * Requests after the full GC and before the counters are zeroed: the GC drops optimised code whose
   * objects' shapes it collected, and the counted window would otherwise include re-optimising it,
   * whose timing (a background compile thread) moved runs of one build by 3–13k Ir per request.
   */
  settle: number
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
  /** Main-thread instructions per request outside the garbage collector, one per run. */
  perRequest: number[]
  /** Main-thread instructions per request inside the garbage collector, one per run. */
  gcPerRequest: number[]
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

// V8's collector (marking, sweeping, evacuation, scavenges, their visitors and write barriers):
// whether a major GC falls inside the counted window depends on where the warm-up left the heap,
// and moves the total by several per cent between two runs of the same server. What the request
// path itself executes is stable to well under 1 %, so the ratio is taken on that, and the GC's
// instructions are reported beside it.
const GC_FUNCTION =
  /v8::internal::(?:[\w:]*(?:Mark|Sweep|Evacuat|Scaveng|RememberedSet|BodyDescriptor|Visitor|SlotSet|GlobalHandles|Ephemeron|ObjectCache|WriteBarrier|FreeList)|Heap::|heap_internals::)|heap::base::|SizeFromMap|__popcount/

/** Main-thread instructions of a dump, split into the collector's and the rest. */
async function totalsOf(dir: string): Promise<{ total: number; gc: number }> {
  // The dump of `callgrind_control -d` is `<out-file>.1-<thread>`; thread 01 is the main thread.
  const file = readdirSync(dir).find((name) => /\.1-01$/.test(name))
  if (file === undefined) throw new Error(`callgrind: no dump in ${dir}`)
  const path = join(dir, file)
  const match = /^(?:totals|summary): (\d+)/m.exec(readFileSync(path, 'utf8'))
  if (match === null) throw new Error(`callgrind: no totals in ${file}`)
  const { stdout } = await run('callgrind_annotate', ['--inclusive=no', '--threshold=100', path], {
    maxBuffer: 64 * 1024 * 1024,
  })
  let gc = 0
  for (const line of stdout.split('\n')) {
    const row = /^\s*([\d,]+) \([\s\d.]+%\)\s+(.*)$/.exec(line)
    if (row === null || row[2]?.includes('PROGRAM TOTALS')) continue
    if (GC_FUNCTION.test(row[2] ?? '')) gc += Number(row[1]?.replaceAll(',', ''))
  }
  return { total: Number(match[1]), gc }
}

async function measure(
  variant: Variant,
  index: number,
  token: string,
  options: CallgrindOptions,
): Promise<{ perRequest: number; gcPerRequest: number }> {
  const dir = fileURLToPath(new URL(`./callgrind/${variant}.${index}/`, import.meta.url))
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const wrap = [
    'valgrind',
    '-q',
    '--tool=callgrind',
    '--instr-atstart=no',
    '--separate-threads=yes',
    `--callgrind-out-file=${join(dir, 'callgrind.out')}`,
  ]
  // Only the main thread is counted (`--separate-threads`, dump of thread 1): the JIT compiles on
  // background threads, and how much of that lands in the window depends on scheduling. GC runs on
  // the main thread only (`--single-threaded-gc`), a full collection runs right before the window
  // (`--expose-gc`), and the old generation starts large (`--initial-old-space-size`) so no major
  // GC falls inside it: what is left is the request path and its scavenges.
  // `--no-memory-reducer`: V8's memory reducer starts a full collection some seconds after the last
  // one when allocation looks idle, which under valgrind's slowdown fell inside the window in some
  // runs and not in others (its lazy sweeping and the work around it moved a run by up to 2 %).
  const nodeArgs = [
    '--single-threaded-gc',
    '--expose-gc',
    '--initial-old-space-size=1024',
    '--no-memory-reducer',
  ]
  if (process.env.BENCH_PERF_MAP === '1') nodeArgs.push('--perf-basic-prof')
  const server = await startServer(variant, undefined, { pin: false, wrap, nodeArgs })
  try {
    const spec = requestFor(variant, token)
    await check(variant, server.port, spec)
    await send(server.port, spec, options.warmup)
    const pid = String(server.child.pid)
    const collected = once(server.child, 'message')
    server.child.send('gc')
    await collected
    await send(server.port, spec, options.settle)
    await run('callgrind_control', ['-i', 'on', pid])
    await run('callgrind_control', ['-z', pid])
    await send(server.port, spec, options.requests)
    await run('callgrind_control', ['-d', pid])
    const { total, gc } = await totalsOf(dir)
    const perRequest = (total - gc) / options.requests
    const gcPerRequest = gc / options.requests
    options.log?.(
      `  callgrind ${variant} run ${index + 1}: ${Math.round(perRequest).toLocaleString('en')} Ir/request + ${Math.round(gcPerRequest).toLocaleString('en')} in GC`,
    )
    return { perRequest, gcPerRequest }
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
  const collected = new Map<Variant, number[]>()
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const job = jobs[next++]!
      const value = await measure(job.variant, job.index, token, options)
      measured.set(job.variant, [...(measured.get(job.variant) ?? []), value.perRequest])
      collected.set(job.variant, [...(collected.get(job.variant) ?? []), value.gcPerRequest])
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
      gcPerRequest: collected.get(variant) ?? [],
      mean,
      spreadPct: ((Math.max(...perRequest) - Math.min(...perRequest)) / mean) * 100,
      ratio: base / mean,
      ...(post === undefined ? {} : { postRatio: meanOf(post) / mean }),
    }
  })
}
