import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon, { type Request as AutocannonRequest } from 'autocannon'
import jwt from 'jsonwebtoken'
import {
  JWT_SECRET,
  loadLib,
  proxyHeaders,
  RECEIPTS_PATH,
  ROUTE_PATH,
  receiptBody,
  storesBody,
  TOKEN_SECRET,
  USER_ID,
} from './fixtures.js'
import { baselineOf, postBaselineOf, type ServerMessage, VARIANTS, type Variant } from './variants.js'

/** Options of {@link runHttp}. */
export interface HttpOptions {
  rounds: number
  /** Seconds per variant per round. */
  duration: number
  connections: number
  /** Seconds of un-measured load per variant before the first round. */
  warmup: number
  variants?: readonly Variant[]
  /** Start the server children with `--cpu-prof` into this directory. */
  cpuProfDir?: string
  /** Pin servers to CPU 0 and this process (autocannon) to CPU 1 with `taskset` (default true). */
  pin?: boolean
  log?: (line: string) => void
}

/** Median and spread of paired per-round ratios. */
export interface RatioSummary {
  median: number
  min: number
  max: number
  /** First and third quartiles. */
  q1: number
  q3: number
  /** The per-round ratios, in round order. */
  rounds: number[]
}

/** One autocannon run. */
export interface HttpRound {
  rps: number
  p50: number
  p99: number
  requests: number
  non2xx: number
  errors: number
  /** Server process CPU time (user + system) per request, µs. */
  cpuPerRequest: number
  /** Server process CPU time / wall time (1 = one core busy). */
  cpuLoad: number
}

/** A variant over all rounds. */
export interface HttpVariantResult {
  variant: Variant
  baseline: Variant
  method: string
  path: string
  /** How request bodies vary (webhooks). */
  body: string
  rounds: HttpRound[]
  /** Mean over rounds. */
  rps: number
  /** Coefficient of variation of rps over rounds, in %. */
  rpsCv: number
  /** Means over rounds, ms. */
  p50: number
  p99: number
  non2xx: number
  errors: number
  /** Means over rounds: server CPU µs per request, and server CPU load (1 = one core). */
  cpuPerRequest: number
  cpuLoad: number
  /** Median over rounds of rps / the baseline's rps in the same round (paired), with its spread. */
  ratio: number
  paired: RatioSummary
  /** The same pairing by server CPU per request: baseline µs/req / this variant's µs/req. */
  cpuPaired: RatioSummary
  /** Webhooks: the same two pairings against the bare POST route (`koa-bare-post`), when it ran. */
  postBaseline?: Variant
  postPaired?: RatioSummary
  postCpuPaired?: RatioSummary
}

export interface RequestSpec {
  method: string
  path: string
  headers: Record<string, string>
  body?: string
  /** Builds a distinct body for every request (autocannon `setupRequest`). */
  unique?: (n: number) => string
  describe: string
}

const ID = 'ID_PLACEHOLDER_7f3k'
// A new id per request, cheap enough for the load generator: the template is split once.
function template(body: string): (n: number) => string {
  const parts = body.split(ID)
  const prefix = `${process.pid.toString(36)}${Date.now().toString(36)}`
  return (n) => parts.join(`${prefix}-${n.toString(36)}`)
}

/** What `variant` is loaded with; `jwtToken` is the standard HS256 JWT of the hand-written middleware. */
export function requestFor(variant: Variant, token: string, jwtToken = ''): RequestSpec {
  const json = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
  switch (variant) {
    case 'webhook-stores-unique':
      return {
        method: 'PUT',
        path: '/api/v1/inventories/stores',
        headers: json,
        unique: template(storesBody(10, ID)),
        describe: '10 stores, uuids unique per request: every delivery is new and runs the handler',
      }
    case 'webhook-stores-duplicate':
      return {
        method: 'PUT',
        path: '/api/v1/inventories/stores',
        headers: json,
        body: storesBody(10),
        // Stores are full upserts, not keyed by content (protocol §5.1): the same body runs the handler again.
        describe: '10 stores, the same body every time (an upsert: not de-duplicated, the handler runs)',
      }
    case 'webhook-receipts-unique':
      return {
        method: 'POST',
        path: RECEIPTS_PATH,
        headers: json,
        unique: template(receiptBody(ID)),
        describe: 'one receipt event, event id unique per request',
      }
    case 'koa-bare-post':
      return {
        method: 'POST',
        path: RECEIPTS_PATH,
        headers: json,
        unique: template(receiptBody(ID)),
        describe: 'the receipts webhook body, new ids: read with a 10 MB limit and JSON.parse-d, no checks',
      }
    case 'webhook-receipts-duplicate':
      return {
        method: 'POST',
        path: RECEIPTS_PATH,
        headers: json,
        body: receiptBody('duplicate'),
        describe: 'one receipt event, the same id every time: all but the first take the duplicate fast path',
      }
    case 'koa-jwt':
      return { method: 'GET', path: ROUTE_PATH, headers: proxyHeaders(jwtToken), describe: 'GET, no body' }
    default:
      return { method: 'GET', path: ROUTE_PATH, headers: proxyHeaders(token), describe: 'GET, no body' }
  }
}

interface Server {
  child: ChildProcess
  port: number
}

/** The CPU the server children run on, and the one of this process (autocannon). */
export const SERVER_CPU = '0'
export const LOAD_CPU = '1'

/**
 * Pins every thread of a process to `cpus` with `taskset`; false when taskset is missing or the
 * machine has fewer CPUs (then nothing is pinned).
 */
export function pinProcess(pid: number, cpus: string): boolean {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** Whether `taskset` can pin to both bench CPUs here. */
export function canPin(): boolean {
  try {
    execFileSync('taskset', ['-c', `${SERVER_CPU},${LOAD_CPU}`, 'true'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** `node --import tsx bench/servers.ts <variant>`, under `taskset -c 0` when pinned, with IPC. */
export async function startServer(
  variant: Variant,
  cpuProfDir: string | undefined,
  options: { pin: boolean; wrap?: readonly string[]; nodeArgs?: readonly string[] } = { pin: false },
): Promise<Server> {
  const entry = fileURLToPath(new URL('./servers.ts', import.meta.url))
  const execArgv = [...(options.nodeArgs ?? []), '--import', 'tsx']
  if (cpuProfDir !== undefined) {
    // One directory per variant: the tsx loader thread writes a profile of its own there too.
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${join(cpuProfDir, variant)}`)
  }
  // Node passes the IPC channel to a grandchild too (NODE_CHANNEL_FD), so taskset/valgrind can sit between.
  const prefix = [...(options.pin ? ['taskset', '-c', SERVER_CPU] : []), ...(options.wrap ?? [])]
  const argv = [...prefix, process.execPath, ...execArgv, entry, variant]
  const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const [message] = (await once(child, 'message')) as [ServerMessage]
  if (message.type !== 'ready') {
    throw new Error(`server ${variant}: ${message.type === 'error' ? message.message : message.type}`)
  }
  return { child, port: message.port }
}

export async function stopServer(server: Server): Promise<void> {
  if (server.child.exitCode !== null) return
  const exited = once(server.child, 'exit')
  server.child.send('stop')
  await exited
}

export async function check(variant: Variant, port: number, spec: RequestSpec): Promise<void> {
  const body = spec.unique?.(-1) ?? spec.body
  const response = await fetch(`http://127.0.0.1:${port}${spec.path}`, {
    method: spec.method,
    headers: spec.headers,
    ...(body === undefined ? {} : { body }),
  })
  const text = await response.text()
  if (response.status !== 200)
    throw new Error(`${variant}: sanity request answered ${response.status} ${text}`)
  if (variant.endsWith('-v1') && !text.startsWith('{"status":200')) {
    throw new Error(`${variant}: expected a ver. 1 envelope, got ${text.slice(0, 80)}`)
  }
}

let sequence = 0
/** An autocannon request that gets a new body from `unique` every time it is sent. */
export function uniqueRequest(spec: RequestSpec, unique: (n: number) => string): AutocannonRequest {
  return {
    method: spec.method,
    path: spec.path,
    headers: spec.headers,
    setupRequest: (request) => ({ ...request, body: unique(sequence++) }),
  }
}

export async function serverCpu(server: Server): Promise<number> {
  const reply = once(server.child, 'message') as Promise<[ServerMessage]>
  server.child.send('cpu')
  const [message] = await reply
  if (message.type !== 'cpu') throw new Error('server: expected a cpu reply')
  return message.micros
}

async function load(
  server: Server,
  spec: RequestSpec,
  connections: number,
  duration: number,
): Promise<HttpRound> {
  const cpuBefore = await serverCpu(server)
  const result = await autocannon({
    url: `http://127.0.0.1:${server.port}${spec.path}`,
    method: spec.method,
    headers: spec.headers,
    connections,
    duration,
    ...(spec.body === undefined ? {} : { body: spec.body }),
    ...(spec.unique === undefined ? {} : { requests: [uniqueRequest(spec, spec.unique)] }),
  })
  const cpu = (await serverCpu(server)) - cpuBefore
  return {
    cpuPerRequest: cpu / Math.max(1, result.requests.total),
    cpuLoad: cpu / 1e6 / result.duration,
    rps: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  }
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length

function cv(xs: readonly number[]): number {
  const m = mean(xs)
  return m === 0 ? 0 : (Math.sqrt(mean(xs.map((x) => (x - m) ** 2))) / m) * 100
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN
  const at = (sorted.length - 1) * q
  const lo = Math.floor(at)
  const hi = Math.ceil(at)
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (at - lo)
}

/** Median, min–max and quartiles of per-round ratios. */
export function summarize(ratios: readonly number[]): RatioSummary {
  const sorted = [...ratios].sort((a, b) => a - b)
  return {
    median: quantile(sorted, 0.5),
    min: sorted[0] ?? Number.NaN,
    max: sorted[sorted.length - 1] ?? Number.NaN,
    q1: quantile(sorted, 0.25),
    q3: quantile(sorted, 0.75),
    rounds: [...ratios],
  }
}

/** Per-round `pick(a) / pick(b)` of two variants measured in the same rounds. */
export function pairedRatios(
  a: readonly HttpRound[],
  b: readonly HttpRound[],
  pick: (round: HttpRound) => number,
): number[] {
  return a.map((round, i) => pick(round) / pick(b[i] as HttpRound))
}

/**
 * The variants grouped by the bare route they are compared with; each group runs back to back
 * within a round, so that a variant and its baseline are measured a few seconds apart.
 */
function groupsOf(variants: readonly Variant[]): Variant[][] {
  const groups = new Map<Variant, Variant[]>()
  for (const v of variants) {
    const base = baselineOf(v)
    if (!groups.has(base)) groups.set(base, [])
    groups.get(base)!.push(v)
  }
  return [...groups.values()]
}

/**
 * Starts one server child per variant (pinned to CPU 0, autocannon in this process on CPU 1),
 * warms each up, then runs paired rounds: in every round each framework's variants run back to
 * back in an order that rotates from round to round, and each variant's ratio to its bare route
 * is taken within the round. Reported: the median of those per-round ratios and their spread.
 */
export async function runHttp(options: HttpOptions): Promise<HttpVariantResult[]> {
  const log = options.log ?? (() => {})
  const variants = options.variants ?? VARIANTS
  const pin = (options.pin ?? true) && canPin()
  if (options.pin !== false && !pin) log('  taskset cannot pin to CPUs 0 and 1 here: running unpinned')
  const lib = await loadLib()
  const token = await lib.createUserTokens({ secret: TOKEN_SECRET }).issue(USER_ID)
  const jwtToken = jwt.sign({ sub: USER_ID }, JWT_SECRET, { algorithm: 'HS256', expiresIn: '1h' })
  const specs = new Map(variants.map((v) => [v, requestFor(v, token, jwtToken)]))
  const servers = new Map<Variant, Server>()
  if (pin) pinProcess(process.pid, LOAD_CPU)
  try {
    for (const v of variants) servers.set(v, await startServer(v, options.cpuProfDir, { pin }))
    for (const v of variants) {
      const server = servers.get(v)!
      await check(v, server.port, specs.get(v)!)
      if (options.warmup > 0) await load(server, specs.get(v)!, options.connections, options.warmup)
    }
    const rounds = new Map<Variant, HttpRound[]>(variants.map((v) => [v, []]))
    const groups = groupsOf(variants)
    for (let r = 0; r < options.rounds; r++) {
      for (const group of groups) {
        const order = group.map((_, i) => group[(i + r) % group.length]!)
        for (const v of order) {
          const round = await load(servers.get(v)!, specs.get(v)!, options.connections, options.duration)
          rounds.get(v)!.push(round)
          log(
            `  round ${r + 1}/${options.rounds} ${v.padEnd(26)} ${Math.round(round.rps)} req/s  p50 ${round.p50} ms  p99 ${round.p99} ms  server ${round.cpuPerRequest.toFixed(1)} µs/req, load ${round.cpuLoad.toFixed(2)}`,
          )
        }
      }
    }
    return variants.map((variant): HttpVariantResult => {
      const list = rounds.get(variant)!
      const spec = specs.get(variant)!
      const baseline = baselineOf(variant)
      const base = rounds.get(baseline)
      const paired = base === undefined ? summarize([]) : summarize(pairedRatios(list, base, (x) => x.rps))
      const cpuPaired =
        base === undefined ? summarize([]) : summarize(pairedRatios(base, list, (x) => x.cpuPerRequest))
      const postBaseline = postBaselineOf(variant)
      const post = postBaseline === undefined ? undefined : rounds.get(postBaseline)
      const vsPost =
        post === undefined || postBaseline === undefined
          ? {}
          : {
              postBaseline,
              postPaired: summarize(pairedRatios(list, post, (x) => x.rps)),
              postCpuPaired: summarize(pairedRatios(post, list, (x) => x.cpuPerRequest)),
            }
      return {
        variant,
        baseline,
        method: spec.method,
        path: spec.path,
        body: spec.describe,
        rounds: list,
        rps: mean(list.map((x) => x.rps)),
        rpsCv: cv(list.map((x) => x.rps)),
        p50: mean(list.map((x) => x.p50)),
        p99: mean(list.map((x) => x.p99)),
        cpuPerRequest: mean(list.map((x) => x.cpuPerRequest)),
        cpuLoad: mean(list.map((x) => x.cpuLoad)),
        non2xx: list.reduce((a, x) => a + x.non2xx, 0),
        errors: list.reduce((a, x) => a + x.errors, 0),
        ratio: paired.median,
        paired,
        cpuPaired,
        ...vsPost,
      }
    })
  } finally {
    await Promise.all([...servers.values()].map(stopServer))
    if (pin) pinProcess(process.pid, `${SERVER_CPU},${LOAD_CPU}`)
  }
}

/** The main-thread profile a server child wrote with `cpuProfDir` (Node names it `CPU.….<pid>.0.<n>.cpuprofile`). */
export function mainThreadProfile(cpuProfDir: string, variant: Variant): string {
  const dir = join(cpuProfDir, variant)
  const file = readdirSync(dir).find((name) => /\.\d+\.0\.\d+\.cpuprofile$/.test(name))
  if (file === undefined) throw new Error(`no main-thread profile in ${dir}`)
  return join(dir, file)
}
