// `npm run bench`: HTTP (autocannon), micro (tinybench) and memory benchmarks of the BUILT package.
// Prints one table and writes bench/results.json. Flags:
//   --quick                 2 rounds x 1 s, 300 ms micro tasks, 20k tokens, small callgrind runs (a smoke run)
//   --only http,micro,memory,hostile,redis,client,example,callgrind
//                           (redis: the receipts webhook on the Redis stores, needs Redis;
//                           example: the example app on PostgreSQL vs SQLite and 3 instances vs 1, needs PostgreSQL;
//                           callgrind: server instructions per request under valgrind, not in the default run)
//   --rounds <n>            paired HTTP rounds (default 10)
//   --callgrind <w>,<n>,<p>[,<s>] callgrind: warm-up requests, counted requests, servers at once, requests after the GC (default 4000,1000,3,3000)
//   --variants a,b          http: these variants only (each with its bare route)
//   --callgrind-variants a,b  callgrind: these variants only (default bare and proxied Koa, Express, Hono)
//   --profile <variant>     `node --cpu-prof` the server of <variant> (and its bare route) for 10 s,
//                           print the hot spots and exit (variants: see bench/variants.ts)
import { writeFileSync } from 'node:fs'
import { cpus, loadavg, arch as osArch, platform, release, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'
import { type CallgrindResult, hasCallgrind, runCallgrind } from './callgrind.js'
import { type ClientBenchResult, runClient } from './client.js'
import { type ExampleAppBenchResult, runExampleAppBench } from './example-app.js'
import { type HostileResult, runHostile } from './hostile.js'
import {
  type HttpVariantResult,
  mainThreadProfile,
  pairedRatios,
  type RatioSummary,
  runHttp,
  summarize,
} from './http.js'
import { type MemoryResult, runMemory } from './memory.js'
import { type MicroResult, runMicro } from './micro.js'
import { hotSpots } from './profile.js'
import { type RedisBenchResult, redisBenchRows, runRedisBench } from './redis.js'
import { baselineOf, postBaselineOf, VARIANTS, type Variant } from './variants.js'

interface Target {
  name: string
  target: string
  measured: string
  pass: boolean
  /** The same goal judged by callgrind instructions, when that section ran. */
  passByIr?: boolean
}

const args = process.argv.slice(2)
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name)
  return i < 0 ? undefined : (args[i + 1] ?? '')
}
const quick = args.includes('--quick')
const only = new Set((flag('--only') ?? 'http,micro,memory,hostile,redis,client,example').split(','))
const roundsFlag = flag('--rounds')
const log = (line: string): void => void process.stderr.write(`${line}\n`)

const HTTP = quick
  ? { rounds: Number(roundsFlag ?? 2), duration: 1, connections: 50, warmup: 1 }
  : { rounds: Number(roundsFlag ?? 10), duration: 2, connections: 50, warmup: 2 }
const CALLGRIND = {
  ...(quick
    ? { warmup: 1000, settle: 1000, requests: 300, runs: 2, parallel: 2 }
    : { warmup: 4000, settle: 3000, requests: 1000, runs: 2, parallel: 3 }),
  // --callgrind <warm-up>,<requests>,<parallel servers>[,<settle>]
  ...(flag('--callgrind') === undefined
    ? {}
    : (([warmup, requests, parallel, settle]) => ({
        warmup,
        requests,
        parallel,
        ...(settle === undefined ? {} : { settle }),
      }))((flag('--callgrind') as string).split(',').map(Number))),
} as { warmup: number; settle: number; requests: number; runs: number; parallel: number }
const CALLGRIND_VARIANTS: readonly Variant[] = [
  'koa-bare',
  'koa-noop',
  'koa-proxy',
  'koa-proxy-v1',
  'express-bare',
  'express-noop',
  'express-proxy',
  'express-proxy-v1',
  'express-proxy-route',
  'hono-bare',
  'hono-noop',
  'hono-proxy',
  'hono-proxy-route',
  'hono-fetch-proxy',
  'koa-bare-post',
  'webhook-receipts-unique',
]
const MICRO_TIME = quick ? 300 : 1000
const CHECKPOINTS = quick ? [10_000, 20_000] : [10_000, 100_000]

const LABELS: Record<Variant, string> = {
  'koa-bare': 'Koa: bare JSON route',
  'koa-bare-post': 'Koa: bare POST, body read + JSON.parse',
  'koa-noop': 'Koa: + a no-op middleware',
  'koa-proxy': 'Koa: + evotorProxy (ver. 2)',
  'koa-proxy-v1': 'Koa: + evotorProxy ver. 1 envelope',
  'koa-jwt': 'Koa: hand-written jsonwebtoken middleware',
  'express-bare': 'Express: bare JSON route',
  'express-noop': 'Express: + a no-op middleware',
  'express-proxy': 'Express: + evotorProxy (ver. 2)',
  'express-proxy-v1': 'Express: + evotorProxy ver. 1 envelope',
  'express-proxy-route': 'Express: withEvotorProxy on the route',
  'hono-bare': 'Hono: bare JSON route',
  'hono-noop': 'Hono: + a no-op middleware',
  'hono-proxy': 'Hono: + evotorProxy (ver. 2)',
  'hono-proxy-v1': 'Hono: + evotorProxy ver. 1 envelope',
  'hono-proxy-route': 'Hono: withEvotorProxy on the route',
  'hono-fetch-proxy': 'Hono: + Fetch withEvotorProxy (ver. 2)',
  'hono-fetch-proxy-v1': 'Hono: + Fetch withEvotorProxy ver. 1',
  'webhook-stores-unique': 'Koa webhook PUT stores (10), new bodies',
  'webhook-stores-duplicate': 'Koa webhook PUT stores (10), same body',
  'webhook-receipts-unique': 'Koa webhook POST receipts, new ids',
  'webhook-receipts-duplicate': 'Koa webhook POST receipts, duplicate',
}

/** `uptime`-style 1/5/15-minute load averages and the CPU count (the machine may be shared). */
function loadAverage(): string {
  return `${loadavg()
    .map((x) => x.toFixed(2))
    .join(', ')} on ${cpus().length} CPUs`
}

const int = (n: number): string => Math.round(n).toLocaleString('en')
const fixed = (n: number, digits = 2): string => n.toFixed(digits)
const ms = (n: number): string => (n >= 1 ? n.toFixed(2) : n.toPrecision(3))

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd()
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

function targets(
  http: readonly HttpVariantResult[],
  micro: readonly MicroResult[],
  memory: readonly MemoryResult[],
  callgrind: readonly CallgrindResult[],
  redis?: RedisBenchResult,
): Target[] {
  const out: Target[] = []
  if (redis !== undefined) {
    out.push({
      name: 'receipts webhook, Redis stores vs memory',
      target: '>= 0.70x rps',
      measured: `${fixed(redis.ratio)}x (CPU ${fixed(redis.cpuRatio)}x)`,
      pass: redis.ratio >= 0.7,
    })
  }
  const h = (v: Variant) => http.find((x) => x.variant === v)
  const spread = (r: RatioSummary): string => `${fixed(r.median, 3)}x [${fixed(r.min, 2)}–${fixed(r.max, 2)}]`
  const cg = (v: Variant): string => {
    const c = callgrind.find((x) => x.variant === v)
    return c === undefined ? '' : `, Ir ${fixed(c.ratio, 3)}x`
  }
  const cgVs = (v: Variant, base: Variant): string => {
    const c = callgrind.find((x) => x.variant === v)
    const b = callgrind.find((x) => x.variant === base)
    return c === undefined || b === undefined ? '' : `, Ir ${fixed(b.mean / c.mean, 3)}x`
  }
  // The goal judged by instructions: only when callgrind measured the variant.
  const byIr = (v: Variant, min: number): { passByIr?: boolean } => {
    const c = callgrind.find((x) => x.variant === v)
    return c === undefined ? {} : { passByIr: c.ratio >= min }
  }
  for (const fw of ['koa', 'express', 'hono', 'hono-fetch'] as const) {
    const proxy = h(`${fw}-proxy`)
    const v1 = h(`${fw}-proxy-v1`)
    const name = { koa: 'Koa', express: 'Express', hono: 'Hono', 'hono-fetch': 'Hono (Fetch adapter)' }[fw]
    if (proxy !== undefined) {
      out.push({
        name: `${name} proxy route vs bare`,
        target: '>= 0.97x rps',
        measured: `${spread(proxy.paired)} (CPU ${fixed(proxy.cpuPaired.median, 3)}x${cg(proxy.variant)})`,
        pass: proxy.paired.median >= 0.97,
        ...byIr(proxy.variant, 0.97),
      })
    }
    const route = fw === 'express' || fw === 'hono' ? h(`${fw}-proxy-route`) : undefined
    if (route !== undefined) {
      out.push({
        name: `${name} proxy on the route (withEvotorProxy) vs bare`,
        target: '>= 0.97x rps',
        measured: `${spread(route.paired)} (CPU ${fixed(route.cpuPaired.median, 3)}x${cg(route.variant)})`,
        pass: route.paired.median >= 0.97,
        ...byIr(route.variant, 0.97),
      })
    }
    const noop = fw === 'hono-fetch' ? undefined : h(`${fw}-noop`)
    if (proxy !== undefined && noop !== undefined) {
      // What the proxy costs beyond what any middleware costs in this framework.
      const vs = summarize(pairedRatios(proxy.rounds, noop.rounds, (x) => x.rps))
      const cpu = summarize(pairedRatios(noop.rounds, proxy.rounds, (x) => x.cpuPerRequest))
      out.push({
        name: `${name} proxy vs a no-op middleware`,
        target: 'report',
        measured: `${spread(vs)} (CPU ${fixed(cpu.median, 3)}x${cgVs(proxy.variant, noop.variant)})`,
        pass: true,
      })
      // How far this run's req/s strays from instructions: a no-op middleware costs almost nothing.
      const noopIr = callgrind.find((x) => x.variant === noop.variant)
      if (noopIr !== undefined) {
        const off = (noop.paired.median / noopIr.ratio - 1) * 100
        out.push({
          name: `${name} req/s noise: a no-op middleware`,
          target: 'report',
          measured: `req/s ${fixed(noop.paired.median, 3)}x [${fixed(noop.paired.min, 2)}–${fixed(noop.paired.max, 2)}] vs Ir ${fixed(noopIr.ratio, 3)}x (${off >= 0 ? '+' : ''}${fixed(off, 1)}%)`,
          pass: true,
        })
      }
    }
    if (proxy !== undefined && v1 !== undefined) {
      const cost = summarize(pairedRatios(v1.rounds, proxy.rounds, (x) => x.rps).map((r) => (1 - r) * 100))
      const cpuCost = summarize(
        pairedRatios(proxy.rounds, v1.rounds, (x) => x.cpuPerRequest).map((r) => (1 - r) * 100),
      )
      const v1Ir = callgrind.find((x) => x.variant === v1.variant)
      const proxyIr = callgrind.find((x) => x.variant === proxy.variant)
      const irOnTop =
        v1Ir === undefined || proxyIr === undefined ? undefined : (v1Ir.mean / proxyIr.mean - 1) * 100
      out.push({
        name: `${name} ver. 1 envelope on top`,
        target: '<= 2% fewer rps',
        measured: `${fixed(cost.median, 1)}% [${fixed(cost.min, 1)}–${fixed(cost.max, 1)}] (CPU ${fixed(cpuCost.median, 1)}%${irOnTop === undefined ? '' : `, Ir +${fixed(irOnTop, 1)}%`})`,
        pass: cost.median <= 2,
        ...(irOnTop === undefined ? {} : { passByIr: irOnTop <= 2 }),
      })
    }
  }
  const jwtRoute = h('koa-jwt')
  const koaProxy = h('koa-proxy')
  if (jwtRoute !== undefined && koaProxy !== undefined) {
    const vs = summarize(pairedRatios(koaProxy.rounds, jwtRoute.rounds, (x) => x.rps))
    out.push({
      name: 'Koa proxy route vs hand-written JWT',
      target: 'report (>= 1x)',
      measured: `${spread(vs)}`,
      pass: vs.median >= 1,
    })
  }
  const webhook = h('webhook-receipts-unique')
  if (webhook !== undefined) {
    out.push({
      name: 'webhook receipts (new ids) vs bare',
      target: '>= 0.80x rps',
      measured: `${spread(webhook.paired)} (CPU ${fixed(webhook.cpuPaired.median, 3)}x${cg(webhook.variant)})`,
      pass: webhook.paired.median >= 0.8,
      ...byIr(webhook.variant, 0.8),
    })
    if (webhook.postPaired !== undefined && webhook.postCpuPaired !== undefined) {
      // The fairer comparison: a bare route that also reads and parses the same POST body.
      const c = callgrind.find((x) => x.variant === webhook.variant)?.postRatio
      out.push({
        name: 'webhook receipts (new ids) vs bare POST',
        target: '>= 0.80x rps',
        measured: `${spread(webhook.postPaired)} (CPU ${fixed(webhook.postCpuPaired.median, 3)}x${c === undefined ? '' : `, Ir ${fixed(c, 3)}x`})`,
        pass: webhook.postPaired.median >= 0.8,
        ...(c === undefined ? {} : { passByIr: c >= 0.8 }),
      })
    }
  }
  const m = (name: string) => micro.find((x) => x.name === name)
  for (const [name, min] of [
    ['user token: verify cached', 1e6],
    ['parseEvotorHeaders', 2e6],
  ] as const) {
    const r = m(name)
    if (r !== undefined) {
      out.push({
        name,
        target: `>= ${int(min)} ops/s`,
        measured: `${int(r.opsPerSec)} ops/s`,
        pass: r.opsPerSec >= min,
      })
    }
  }
  for (const [name, limit] of [
    ['validate 1,000 products', 15],
    ['validate 100 v1 documents', 10],
  ] as const) {
    const r = m(name)
    if (r !== undefined) {
      out.push({ name, target: `<= ${limit} ms`, measured: `${ms(r.meanMs)} ms`, pass: r.meanMs <= limit })
    }
  }
  for (const c of callgrind) {
    out.push({
      name: `callgrind ${c.variant}: two runs agree`,
      target: '<= 1% apart',
      measured: `${fixed(c.spreadPct, 2)}%`,
      pass: c.spreadPct <= 1,
    })
  }
  for (const r of memory) {
    const last = r.points[r.points.length - 1]
    out.push({
      name: `memory, ${r.mode} tokens`,
      target: 'bounded by cache max',
      measured: `size ${last?.cacheSize}/${r.cacheMax}, +${fixed(r.heapGrowthMb)} MB heap`,
      pass: r.bounded,
    })
  }
  return out
}

function render(
  http: readonly HttpVariantResult[],
  micro: readonly MicroResult[],
  memory: readonly MemoryResult[],
  callgrind: readonly CallgrindResult[],
  goals: readonly Target[],
  redis?: RedisBenchResult,
): string {
  const parts: string[] = []
  const cpu = cpus()
  parts.push(
    `evotor-partner benchmarks: node ${process.version}, ${platform()} ${osArch()}, ${cpu.length} x ${cpu[0]?.model ?? 'cpu'}, ${new Date().toISOString()}`,
  )
  if (http.length > 0) {
    parts.push(
      `\nHTTP: autocannon -> 127.0.0.1, ${HTTP.connections} connections, ${HTTP.rounds} paired rounds x ${HTTP.duration} s per variant; server child on CPU 0, autocannon on CPU 1 (taskset); in each round a framework's variants run back to back (order rotating), the ratio to the bare route is taken per round: median [min–max] (IQR) of those (webhooks also against the bare POST route, which reads and JSON.parses the same body); req/s, p50, p99, server µs/req (CPU time per request) are means over rounds`,
    )
    parts.push(
      table(
        [
          'variant',
          'req/s',
          'cv',
          'p50 ms',
          'p99 ms',
          'vs bare: median [min–max]',
          'IQR',
          'server µs/req',
          'CPU vs bare',
          'vs bare POST: median [min–max]',
          'CPU vs bare POST',
          'non-2xx',
        ],
        http.map((r) => {
          const bare = r.variant === baselineOf(r.variant)
          const barePost = r.variant === 'koa-bare-post'
          const post = r.postPaired
          return [
            LABELS[r.variant],
            int(r.rps),
            `${fixed(r.rpsCv, 1)}%`,
            fixed(r.p50),
            fixed(r.p99),
            bare
              ? '1.00'
              : `${fixed(r.paired.median, 3)} [${fixed(r.paired.min, 2)}–${fixed(r.paired.max, 2)}]`,
            bare ? '' : `${fixed(r.paired.q1, 2)}–${fixed(r.paired.q3, 2)}`,
            fixed(r.cpuPerRequest, 1),
            bare ? '1.00' : fixed(r.cpuPaired.median, 3),
            barePost
              ? '1.00'
              : post === undefined
                ? ''
                : `${fixed(post.median, 3)} [${fixed(post.min, 2)}–${fixed(post.max, 2)}]`,
            barePost ? '1.00' : r.postCpuPaired === undefined ? '' : fixed(r.postCpuPaired.median, 3),
            String(r.non2xx + r.errors),
          ]
        }),
      ),
    )
  }
  if (callgrind.length > 0) {
    parts.push(
      `\nCallgrind: server main-thread instructions (Ir) per request outside the GC, under valgrind --tool=callgrind, ${int(CALLGRIND.requests)} requests on 1 connection after ${int(CALLGRIND.warmup)} warm-up requests, a full GC and ${int(CALLGRIND.settle)} more (code the GC deoptimised is optimised again before counting), ${CALLGRIND.runs} runs (separate processes) per variant; GC Ir beside (it varies with where a major GC falls); ratio = bare Ir / variant Ir, beside the paired req/s ratio; webhooks also against the bare POST route (reads and JSON.parses the same body). User-space instructions only: the kernel's share of a request (sockets) is not in them, so Ir ratios read lower than req/s ratios`,
    )
    parts.push(
      table(
        [
          'variant',
          'Ir/request (runs)',
          'runs apart',
          'GC Ir/request',
          'Ir ratio vs bare',
          'req/s ratio vs bare',
          'Ir ratio vs bare POST',
        ],
        callgrind.map((c) => {
          const rps = http.find((x) => x.variant === c.variant)
          const bare = c.variant === c.baseline
          return [
            LABELS[c.variant],
            c.perRequest.map((x) => int(x)).join(' / '),
            `${fixed(c.spreadPct, 2)}%`,
            c.gcPerRequest.map((x) => int(x)).join(' / '),
            bare ? '1.000' : fixed(c.ratio, 3),
            rps === undefined ? '' : bare ? '1.000' : fixed(rps.paired.median, 3),
            c.variant === 'koa-bare-post' ? '1.000' : c.postRatio === undefined ? '' : fixed(c.postRatio, 3),
          ]
        }),
      ),
    )
  }
  if (redis !== undefined) {
    parts.push(
      `\nRedis stores: the same receipts server with evotor-partner/redis (${redis.redisUrl}) and with the memory stores, interleaved rounds`,
    )
    parts.push(
      table(['variant', 'req/s', 'p99 ms', 'server µs/req', 'vs memory', 'non-2xx'], redisBenchRows(redis)),
    )
  }
  if (micro.length > 0) {
    parts.push('\nMicro: tinybench, built package (fast calls batched per iteration)')
    parts.push(
      table(
        ['operation', 'ops/s', 'mean ms', 'rme'],
        micro.map((r) => [r.name, int(r.opsPerSec), ms(r.meanMs), `${fixed(r.rme, 1)}%`]),
      ),
    )
  }
  if (memory.length > 0) {
    parts.push(
      '\nMemory: Koa evotorProxy in-process, one distinct token and user per request, after forced GC',
    )
    const rows: string[][] = []
    for (const r of memory) {
      for (const p of [r.baseline, ...r.points]) {
        rows.push([
          r.mode,
          int(p.requests),
          fixed(p.heapUsedMb, 1),
          fixed(p.rssMb, 1),
          `${int(p.cacheSize)} / ${int(r.cacheMax)}`,
        ])
      }
    }
    parts.push(table(['tokens', 'requests', 'heap MB', 'RSS MB', 'cache size / max'], rows))
  }
  if (goals.length > 0) {
    parts.push(
      `\nTargets (issue #11); req/s: pass/miss by the median paired req/s ratio [min–max]; CPU = the same pairing by server CPU per request; Ir = callgrind instructions per request, and "by Ir" the same goal judged by them (the measure that does not move with the machine; the no-op rows show how far this run's req/s strays from it). Load: ${loadAverage()}`,
    )
    const verdict = (pass: boolean | undefined): string => (pass === undefined ? '' : pass ? 'pass' : 'MISS')
    parts.push(
      table(
        ['target', 'goal', 'measured', '', 'by Ir'],
        goals.map((g) => [g.name, g.target, g.measured, g.pass ? 'pass' : 'MISS', verdict(g.passByIr)]),
      ),
    )
  }
  return parts.join('\n')
}

function clientTargets(r: ClientBenchResult | undefined): Target[] {
  if (r === undefined) return []
  return [
    {
      name: 'client GET vs bare fetch (same fake endpoint)',
      target: '<= 1.30x time',
      measured: `${fixed(r.overheadRatio)}x (${ms(r.clientMsPerRequest)} vs ${ms(r.bareMsPerRequest)} ms)`,
      pass: r.overheadRatio <= 1.3,
    },
    {
      name: `client: list ${int(r.documents)} documents / ${r.pages} pages`,
      target: 'heap flat (<= 2 MB growth)',
      measured: `${r.heapGrowthMb >= 0 ? '+' : ''}${fixed(r.heapGrowthMb)} MB (all held: ${fixed(r.heldAllMb, 1)} MB)`,
      pass: r.heapGrowthMb <= 2,
    },
  ]
}

function renderClient(r: ClientBenchResult): string {
  return [
    `\nOutbound client (issue #12): ${r.rounds} interleaved rounds x ${int(r.requestsPerRound)} sequential GETs, median; heap used after forced GC, MB`,
    table(
      ['measure', 'value'],
      [
        ['bare fetch + json(), ms/request', ms(r.bareMsPerRequest)],
        ['client.stores.get(), ms/request', ms(r.clientMsPerRequest)],
        ['client / bare', `${fixed(r.overheadRatio)}x`],
        ...r.heap.map((p) => [
          `heap after ${int(p.documents)} documents (for await)`,
          fixed(p.heapUsedMb, 2),
        ]),
        ['heap holding all 10,000 (toArray)', fixed(r.heldAllMb, 2)],
      ],
    ),
  ].join('\n')
}

async function profile(variant: Variant): Promise<void> {
  const dir = fileURLToPath(new URL('./profiles/', import.meta.url))
  const post = postBaselineOf(variant)
  const variants = [...new Set([baselineOf(variant), ...(post === undefined ? [] : [post]), variant])]
  log(`profiling ${variants.join(', ')} (10 s each) into ${dir}`)
  await runHttp({ rounds: 1, duration: 10, connections: 50, warmup: 1, variants, cpuProfDir: dir, log })
  for (const v of variants) {
    const file = mainThreadProfile(dir, v)
    console.log(`\n${v}: ${file}\nself%  total%  function (top by self time)`)
    for (const s of hotSpots(file, { top: 20 })) {
      console.log(`${fixed(s.self, 1).padStart(5)}  ${fixed(s.total, 1).padStart(6)}  ${s.where}`)
    }
    console.log(`${v}: evotor-partner (dist/) functions by total time`)
    const lib = hotSpots(file, { top: 500, filter: /dist\/(index|koa|express|fetch|chunk-)/ })
    for (const s of lib.sort((a, b) => b.total - a.total).slice(0, 15)) {
      console.log(`${fixed(s.self, 1).padStart(5)}  ${fixed(s.total, 1).padStart(6)}  ${s.where}`)
    }
  }
}

async function main(): Promise<void> {
  const profiled = flag('--profile')
  if (profiled !== undefined) {
    if (!VARIANTS.includes(profiled as Variant)) throw new Error(`--profile: one of ${VARIANTS.join(', ')}`)
    await profile(profiled as Variant)
    return
  }
  const started = Date.now()
  const loadBefore = loadAverage()
  log(`load average before: ${loadBefore}`)
  let micro: MicroResult[] = []
  let memory: MemoryResult[] = []
  let http: HttpVariantResult[] = []
  if (only.has('micro')) {
    log('micro benchmarks…')
    micro = await runMicro({ time: MICRO_TIME, log })
  }
  if (only.has('memory')) {
    log('memory under distinct tokens…')
    memory = [await runMemory('signed', CHECKPOINTS), await runMemory('opaque', CHECKPOINTS)]
  }
  if (only.has('http')) {
    log('HTTP benchmarks…')
    const picked = flag('--variants')?.split(',') as Variant[] | undefined
    // Each picked variant with the routes it is compared with (its bare route, and the bare POST route for webhooks).
    const withBaselines = picked?.flatMap((v) => [baselineOf(v), postBaselineOf(v) ?? v, v])
    const variants =
      withBaselines === undefined ? undefined : VARIANTS.filter((v) => withBaselines.includes(v))
    http = await runHttp({ ...HTTP, log, ...(variants === undefined ? {} : { variants }) })
  }
  let hostile: HostileResult[] = []
  if (only.has('hostile')) {
    log('hostile bodies…')
    hostile = await runHostile(quick ? 1 : 5, log)
  }
  let redis: RedisBenchResult | undefined
  if (only.has('redis')) {
    log('Redis stores vs memory stores…')
    redis = await runRedisBench({ ...HTTP, log })
  }
  let client: ClientBenchResult | undefined
  if (only.has('client')) {
    log('outbound client…')
    client = await runClient(quick)
  }
  let example: ExampleAppBenchResult | undefined
  if (only.has('example')) {
    log('example app: PostgreSQL vs SQLite, three instances vs one…')
    example = await runExampleAppBench({ ...HTTP, rounds: quick ? 1 : 3, connections: 30, log })
  }
  let callgrind: CallgrindResult[] = []
  if (only.has('callgrind')) {
    if (await hasCallgrind()) {
      log('callgrind: server instructions per request…')
      const picked = flag('--callgrind-variants')?.split(',') as Variant[] | undefined
      callgrind = await runCallgrind({ ...CALLGRIND, variants: picked ?? CALLGRIND_VARIANTS, log })
    } else {
      log('callgrind: valgrind/callgrind_control not installed, skipped')
    }
  }
  const goals = [...targets(http, micro, memory, callgrind, redis), ...clientTargets(client)]
  console.log(render(http, micro, memory, callgrind, goals, redis))
  if (client !== undefined) console.log(renderClient(client))
  if (example !== undefined) {
    console.log(
      `\nExample app (examples/koa-app), POST /api/v2/receipts with new ids, whole processes on this machine, median of rounds: PostgreSQL x1 / SQLite x1 = ${fixed(example.postgresVsSqlite)}x, PostgreSQL x3 / x1 = ${fixed(example.threeVsOne)}x`,
    )
    console.log(
      table(
        ['variant', 'req/s', 'p99 ms', 'non-2xx', 'errors'],
        example.variants.map((v) => [v.variant, int(v.rps), fixed(v.p99, 0), int(v.non2xx), int(v.errors)]),
      ),
    )
  }
  if (hostile.length > 0) {
    console.log(
      '\nHostile bodies (median of rounds): time to refuse, and the longest wait of a GET sent every 2 ms meanwhile',
    )
    console.log(
      table(
        ['body', 'MB', 'status', 'answer bytes', 'refused in ms', 'worst concurrent wait ms'],
        hostile.map((h) => [
          h.body,
          fixed(h.bytes / 1e6, 1),
          String(h.status),
          int(h.answerBytes),
          ms(h.refuseMs),
          ms(h.worstStallMs),
        ]),
      ),
    )
  }
  const cpu = cpus()
  const results = {
    date: new Date().toISOString(),
    durationSeconds: (Date.now() - started) / 1000,
    machine: {
      node: process.version,
      v8: process.versions.v8,
      platform: platform(),
      release: release(),
      arch: osArch(),
      cpus: cpu.length,
      cpuModel: cpu[0]?.model,
      totalMemoryMb: Math.round(totalmem() / 1024 / 1024),
    },
    load: { before: loadBefore, after: loadAverage() },
    settings: {
      http: HTTP,
      callgrind: CALLGRIND,
      microTimeMs: MICRO_TIME,
      memoryCheckpoints: CHECKPOINTS,
      quick,
    },
    http,
    callgrind,
    micro,
    memory,
    hostile,
    redis,
    client,
    example,
    targets: goals,
  }
  const out = fileURLToPath(new URL('./results.json', import.meta.url))
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`)
  log(`wrote ${out}`)
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
