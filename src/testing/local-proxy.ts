/**
 * A local stand-in for the Evotor cloud proxy (protocol §2, §3.2, §7), for developing a terminal
 * app against your own partner service: the app's requests are checked as the terminal and the
 * portal would, rewritten as the cloud would, and forwarded.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { type AddressInfo, isIP } from 'node:net'
import type { Duplex } from 'node:stream'
import { readNodeBody } from '../adapters/node-body.js'
import { isEvotorError } from '../core/evotor-error.js'
import { fromProxyV1 } from '../core/proxy-envelope.js'
import { resolveBodyLimit } from '../core/request-guards.js'
import { checkAllowedUrls, isTerminalReservedHeader } from '../terminal/allowed-urls.js'
import { compileAllowedUrlPattern } from '../terminal/java-pattern.js'
import { buildAuthorization, buildUserCreate, randomEvotorUuid, randomUserId } from './builders.js'

/**
 * The terminal the proxy speaks for: the Evotor user, store and device, and the partner user
 * token the cloud sends as `Authorization: Bearer <token>`.
 *
 * @example
 * ```ts
 * import type { LocalProxyUser } from 'evotor-partner/testing'
 * const user: LocalProxyUser = {
 *   userId: '01-000000000000001',
 *   storeUuid: '20170228-F4F1-401B-80FA-9ECCA8451FFB',
 *   deviceUuid: '20170222-D58C-40E0-8051-B53ADFF38860',
 *   token: process.env.EVOTOR_USER_TOKEN ?? '',
 * }
 * ```
 */
export interface LocalProxyUser {
  userId: string
  storeUuid: string
  deviceUuid: string
  token: string
}

/**
 * Options of {@link createLocalProxy}.
 *
 * @example
 * ```ts
 * import type { LocalProxyOptions } from 'evotor-partner/testing'
 * const options: LocalProxyOptions = {
 *   target: 'http://127.0.0.1:3000',
 *   publicUrl: 'https://partner.example.com',
 *   patterns: ['https://partner\\.example\\.com/trpc/.*'],
 *   userCreate: { appToken: process.env.EVOTOR_APP_TOKEN ?? '' },
 * }
 * ```
 */
export interface LocalProxyOptions {
  /** Base URL of the partner service requests are forwarded to, e.g. `http://127.0.0.1:3000`. */
  target: string
  /**
   * The base URL the terminal app calls (what the portal's patterns are written for); a request
   * to `<proxy>/x` stands for `<publicUrl>/x`. Default: `target`. Requests in absolute form (the
   * proxy used as an HTTP proxy) carry their own URL, which must start with it.
   */
  publicUrl?: string
  /** The allowed-URL patterns as entered on the portal; each must compile (else TypeError). */
  patterns: readonly string[]
  /** Proxy version of the app on the portal (protocol §7); 1 checks and unwraps `{status, body}`. Default 2. */
  proxyVersion?: 1 | 2
  /** The terminal to speak for. Missing ids are random; a missing token comes from `userCreate`. */
  user?: Partial<LocalProxyUser>
  /** Obtain the user token through the service's own `user/create`, with the app credential. */
  userCreate?: {
    appToken?: string
    appBasic?: { username: string; password: string }
    /** Default `/api/v1/user/create`. */
    path?: string
  }
  /** Called after every exchange (also refused ones), with secrets masked. */
  onExchange?: (exchange: LocalProxyExchange) => void
  /** Largest request body forwarded, in bytes (default 10 MB, as the cloud). */
  bodyLimit?: number
  /** Deadline of the partner's answer in ms (default 30000). */
  timeoutMs?: number
  /** `fetch` for the forwarded requests; default the global one. */
  fetch?: typeof fetch
  /**
   * Host names the proxy answers besides `localhost`, `*.localhost`, IP addresses and the hosts of
   * `target` and `publicUrl` (e.g. a LAN name a real terminal uses); `true` answers any host and
   * origin. A request whose `Host`, or whose `Origin` (sent by browsers; an IP address there only
   * when loopback or the one the request went to), names none of these, or a cross-site request
   * without `Origin` (`Sec-Fetch-Site: cross-site`), is refused with 403: a web page could otherwise
   * call your service with the test user's token, from its own site or through a domain of its own
   * pointed at this machine (DNS rebinding).
   */
  allowedHosts?: readonly string[] | true
}

/**
 * One request of the app and what came of it. Tokens and `Authorization` values never appear.
 *
 * @example
 * ```ts
 * import { createLocalProxy, type LocalProxyExchange } from 'evotor-partner/testing'
 * const seen: LocalProxyExchange[] = []
 * createLocalProxy({ target: 'http://127.0.0.1:3000', patterns: ['.*'], onExchange: (e) => seen.push(e) })
 * ```
 */
export interface LocalProxyExchange {
  method: string
  /** The URL the app called (what the patterns judge). */
  url: string
  /** `forwarded`, `refused` (by the terminal rules), or `failed` (the service or its answer). */
  outcome: 'forwarded' | 'refused' | 'failed'
  /** Status the app received. */
  status: number
  /** The allowed-URL pattern that matched. */
  matchedPattern?: string
  /** Where the request went. */
  forwardedTo?: string
  /** Headers the app set that the terminal and cloud remove (reserved, hop-by-hop, Authorization). */
  stripped: string[]
  /** Headers the proxy added, values masked (`Authorization: Bearer [REDACTED n chars]`). */
  added: string[]
  /** Status the service answered (ver. 1: the outer status). */
  serviceStatus?: number
  /** Why the request was refused or failed; terminal-rule warnings (e.g. a media type). */
  problems: string[]
  ms: number
}

/**
 * A local cloud proxy: `listen()` to serve it, or mount `handle` on your own server.
 *
 * @example
 * ```ts
 * import { createLocalProxy } from 'evotor-partner/testing'
 * const proxy = createLocalProxy({ target: 'http://127.0.0.1:3000', patterns: ['http://127\\.0\\.0\\.1/.*'] })
 * const url = await proxy.listen(8080)
 * ```
 */
export interface LocalProxy {
  /** Handles one app request (obtains the user token first when needed). */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>
  /** The terminal, once known (after `ready()`); its token is not exposed. */
  user(): Promise<Omit<LocalProxyUser, 'token'>>
  /** Obtains the user token (through `user/create` when configured); rejects with why it failed. */
  ready(): Promise<void>
  /** Starts an HTTP server (default port 0, host 127.0.0.1) after `ready()`; resolves with its URL. */
  listen(port?: number, host?: string): Promise<string>
  /** Stops the server started by `listen()`. */
  close(): Promise<void>
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'te',
  'trailer',
  'upgrade',
  'content-length',
])
const RESPONSE_DROP = new Set([...HOP_BY_HOP, 'transfer-encoding', 'content-encoding'])
const JSON_TYPE = 'application/json;charset=UTF-8'

interface Resolved {
  target: URL
  publicBase: string
  patterns: readonly string[]
  proxyVersion: 1 | 2
  bodyLimit: number
  timeoutMs: number
  fetch: typeof fetch
  onExchange: (exchange: LocalProxyExchange) => void
  /** Lower-case host names answered besides localhost and IP addresses; `true`: any. */
  allowedHosts: ReadonlySet<string> | true
}

const trimSlash = (url: string): string => (url.endsWith('/') ? url.slice(0, -1) : url)

function absoluteUrl(name: string, value: unknown): URL {
  if (typeof value !== 'string')
    throw new TypeError(`createLocalProxy: ${name} must be an absolute http(s) URL`)
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new TypeError(`createLocalProxy: ${name} must be an absolute http(s) URL`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`createLocalProxy: ${name} must be an absolute http(s) URL`)
  }
  return url
}

function resolveOptions(options: LocalProxyOptions): Resolved {
  const target = absoluteUrl('target', options?.target)
  const publicBase = trimSlash(absoluteUrl('publicUrl', options.publicUrl ?? options.target).href)
  if (!Array.isArray(options.patterns) || !options.patterns.every((p) => typeof p === 'string')) {
    throw new TypeError('createLocalProxy: patterns must be an array of strings')
  }
  for (const pattern of options.patterns) {
    const compiled = compileAllowedUrlPattern(pattern)
    if (!compiled.ok) {
      throw new TypeError(
        `createLocalProxy: patterns: ${JSON.stringify(pattern)} at ${compiled.error.index}: ${compiled.error.message}`,
      )
    }
  }
  const proxyVersion = options.proxyVersion ?? 2
  if (proxyVersion !== 1 && proxyVersion !== 2)
    throw new TypeError('createLocalProxy: proxyVersion must be 1 or 2')
  const timeoutMs = options.timeoutMs ?? 30_000
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new TypeError('createLocalProxy: timeoutMs must be a positive number')
  }
  if (options.user?.token === undefined && options.userCreate === undefined) {
    throw new TypeError('createLocalProxy: give user.token, or userCreate to obtain one through user/create')
  }
  if (
    options.userCreate !== undefined &&
    options.userCreate.appToken === undefined &&
    options.userCreate.appBasic === undefined
  ) {
    throw new TypeError('createLocalProxy: userCreate needs appToken or appBasic')
  }
  return {
    allowedHosts: resolveAllowedHosts(options.allowedHosts, [target, new URL(publicBase)]),
    target,
    publicBase,
    patterns: [...options.patterns],
    proxyVersion,
    bodyLimit: resolveBodyLimit('createLocalProxy', options.bodyLimit),
    timeoutMs,
    fetch: options.fetch ?? globalThis.fetch,
    onExchange: options.onExchange ?? (() => {}),
  }
}

function resolveAllowedHosts(allowed: unknown, urls: readonly URL[]): ReadonlySet<string> | true {
  if (allowed === true) return true
  const list = allowed === undefined ? [] : allowed
  const names = Array.isArray(list)
    ? list.map((h) => (typeof h === 'string' && !/[/@?#\\\s]/.test(h) ? hostnameOf(h) : undefined))
    : [undefined]
  if (names.includes(undefined)) {
    throw new TypeError('createLocalProxy: allowedHosts must be an array of host names, or true')
  }
  return new Set([...urls.map((url) => hostnameOf(url.host) as string), ...(names as string[])])
}

/**
 * The host name of a `Host` value (or an allowed-hosts entry) as the URL parser reads it: lower-case,
 * punycode, no port, no trailing dot; an IPv6 address keeps its brackets (a zone id too).
 */
function hostnameOf(host: string): string | undefined {
  const bracketed = /^(\[[^\]]*\])(?::\d*)?$/.exec(host)
  let name: string
  if (bracketed !== null) name = (bracketed[1] as string).replaceAll('%25', '%').toLowerCase()
  else {
    try {
      name = new URL(`http://${host}`).hostname
    } catch {
      return undefined
    }
  }
  name = name.endsWith('.') ? name.slice(0, -1) : name
  return name === '' ? undefined : name
}

/** Whether a host name is one the proxy answers: localhost, an IP address, or an allowed name. */
function isAnswered(r: Resolved, name: string): boolean {
  if (r.allowedHosts === true || name === 'localhost' || name.endsWith('.localhost')) return true
  if (r.allowedHosts.has(name)) return true
  return isIP(name.startsWith('[') ? name.slice(1, -1) : name) !== 0
}

/**
 * Why a request is refused for where it comes from, or `undefined`: its `Host` must be one the proxy
 * answers (a domain rebound to this machine is not), and so must the host of its `Origin` when a
 * browser sent one (a page elsewhere, or an opaque `null` origin, must not call the service with the
 * test user's token).
 */
function refusedSource(
  r: Resolved,
  headers: IncomingMessage['headers'],
): { reason: 'host' | 'origin'; message: string } | undefined {
  if (r.allowedHosts === true) return undefined
  const hint = 'add it to allowedHosts (--allowed-host), or allow any host with allowedHosts: true'
  const host = headers.host
  const hostName = host === undefined ? undefined : hostnameOf(host)
  if (host !== undefined && (hostName === undefined || !isAnswered(r, hostName))) {
    return {
      reason: 'host',
      message: `Host ${JSON.stringify((hostName ?? host).slice(0, 200))} is not allowed: this stand-in answers localhost, IP addresses and the hosts of target, publicUrl and allowedHosts, so that a web page cannot reach it through a domain of its own (DNS rebinding); ${hint}`,
    }
  }
  const origin = headers.origin
  const page =
    "a page from another site (or an opaque origin) must not call the service with the test user's token"
  if (origin !== undefined) {
    let name: string | undefined
    try {
      name = origin === 'null' ? undefined : hostnameOf(new URL(origin).host)
    } catch {
      name = undefined
    }
    if (name === undefined || !isPageAnswered(r, name, hostName)) {
      return {
        reason: 'origin',
        message: `Origin ${JSON.stringify(origin.slice(0, 200))} is not allowed: ${page}; ${hint}`,
      }
    }
  } else if (headers['sec-fetch-site'] === 'cross-site') {
    // A navigation, an <img> or a no-cors fetch from another site: browsers send no Origin with these.
    return {
      reason: 'origin',
      message: `A cross-site request without an Origin (Sec-Fetch-Site: cross-site) is not allowed: ${page}; ${hint}`,
    }
  }
  return undefined
}

/**
 * Whether a page's origin host may call the proxy: a name {@link isAnswered} accepts, but an IP
 * address only when it is a loopback one, the address the request was sent to, or allowed by name
 * (any site can serve a page from an address of its own).
 */
function isPageAnswered(r: Resolved, name: string, hostName: string | undefined): boolean {
  const ip = name.startsWith('[') ? name.slice(1, -1) : name
  if (isIP(ip) === 0) return isAnswered(r, name)
  if (name === hostName || (r.allowedHosts !== true && r.allowedHosts.has(name))) return true
  return /^127\./.test(ip) || ip === '::1' || /^::ffff:127\./i.test(ip)
}

/** `user/create` on the partner service (protocol §6.1): the answer carries the user token. */
async function obtainToken(options: LocalProxyOptions, target: URL, userId: string, fetchFn: typeof fetch) {
  const create = options.userCreate!
  const authorization =
    create.appToken !== undefined
      ? buildAuthorization({ bearer: create.appToken })
      : buildAuthorization({ basic: create.appBasic! })
  const url = `${trimSlash(target.href)}${create.path ?? '/api/v1/user/create'}`
  const response = await fetchFn(url, {
    method: 'POST',
    headers: { authorization, 'content-type': JSON_TYPE, accept: JSON_TYPE },
    body: JSON.stringify(buildUserCreate({ userId })),
    signal: AbortSignal.timeout(10_000),
  })
  const text = await response.text()
  let token: unknown
  try {
    token = (JSON.parse(text) as { token?: unknown }).token
  } catch {
    // Reported below.
  }
  if (response.status !== 200 || typeof token !== 'string' || token === '') {
    throw new Error(
      `createLocalProxy: user/create at ${url} answered ${response.status} without a token; check the app credential`,
    )
  }
  return token
}

function refuse(res: ServerResponse, status: number, reason: string, message: string): void {
  const body = JSON.stringify({ errors: [{ reason, subject: 'url' }], message })
  res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

/** Whether `url` is `base` or below it (not merely a longer host name). */
function isUnder(url: string, base: string): boolean {
  return url === base || (url.startsWith(base) && /^[/?#]/.test(url.slice(base.length)))
}

/** The URL the app called: absolute-form targets carry it; otherwise it is publicUrl + path. */
function appUrlOf(req: IncomingMessage, publicBase: string): string {
  const target = req.url ?? '/'
  const raw = /^https?:\/\//i.test(target)
    ? target
    : `${publicBase}${target.startsWith('/') ? target : `/${target}`}`
  // Checked and forwarded in the same normalised form: `/trpc/../api` (or `%2e%2e`) must not pass a
  // `/trpc/.*` pattern and then reach `/api` (fetch resolves dot segments when it sends).
  try {
    return new URL(raw).href
  } catch {
    return raw
  }
}

function forwardHeaders(req: IncomingMessage, user: LocalProxyUser, stripped: string[]): Headers {
  const headers = new Headers()
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue
    if (isTerminalReservedHeader(name) || HOP_BY_HOP.has(name) || name === 'authorization') {
      if (name !== 'host' && name !== 'connection' && name !== 'content-length') stripped.push(name)
      continue
    }
    headers.set(name, Array.isArray(value) ? value.join(', ') : value)
  }
  headers.set('x-evotor-store-uuid', user.storeUuid)
  headers.set('x-evotor-device-uuid', user.deviceUuid)
  headers.set('x-evotor-user-id', user.userId)
  headers.set('authorization', `Bearer ${user.token}`)
  return headers
}

function masked(user: LocalProxyUser): string[] {
  return [
    `X-Evotor-Store-Uuid: ${user.storeUuid}`,
    `X-Evotor-Device-UUID: ${user.deviceUuid}`,
    `X-Evotor-User-Id: ${user.userId}`,
    `Authorization: Bearer [REDACTED ${user.token.length} chars]`,
  ]
}

/** ver. 1 (protocol §7.4): HTTP 200 with `{status, body}`; the app receives `body` with `status`. */
function unwrapV1(status: number, text: string): { status: number; body: string; type: string } | string {
  if (status !== 200)
    return `the service answered HTTP ${status}; ver. 1 answers are HTTP 200 with {status, body}`
  let envelope: { status: number; body: unknown }
  try {
    envelope = fromProxyV1(text)
  } catch {
    return `the service forgot the ver. 1 envelope: expected {"status": <int>, "body": …}, got ${text.length > 120 ? `${text.slice(0, 120)}…` : text}`
  }
  if (typeof envelope.body === 'string') {
    let isJson = false
    try {
      JSON.parse(envelope.body)
      isJson = envelope.body !== ''
    } catch {
      isJson = false
    }
    return {
      status: envelope.status,
      body: envelope.body,
      type: isJson ? JSON_TYPE : 'text/plain;charset=UTF-8',
    }
  }
  return { status: envelope.status, body: JSON.stringify(envelope.body), type: JSON_TYPE }
}

function reachError(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause
  if (typeof cause?.code === 'string') return cause.code
  if (typeof cause?.message === 'string') return cause.message
  return String(error)
}

async function relay(
  r: Resolved,
  req: IncomingMessage,
  res: ServerResponse,
  user: LocalProxyUser,
  exchange: LocalProxyExchange,
): Promise<void> {
  const rest = exchange.url.slice(r.publicBase.length)
  const forwardedTo = `${trimSlash(r.target.href)}${rest.startsWith('/') || rest === '' ? rest : `/${rest}`}`
  exchange.forwardedTo = forwardedTo
  const body = await readNodeBody(req, r.bodyLimit)
  const headers = forwardHeaders(req, user, exchange.stripped)
  exchange.added = masked(user)
  let response: Response
  try {
    response = await r.fetch(forwardedTo, {
      method: exchange.method,
      headers,
      ...(body.length > 0 && exchange.method !== 'GET' ? { body: Buffer.from(body) } : {}),
      redirect: 'manual',
      signal: AbortSignal.timeout(r.timeoutMs),
    })
  } catch (error) {
    const timeout = error instanceof Error && error.name === 'TimeoutError'
    exchange.outcome = 'failed'
    exchange.problems.push(
      timeout
        ? `the service did not answer within ${r.timeoutMs} ms`
        : `the service could not be reached: ${reachError(error)}`,
    )
    exchange.status = timeout ? 504 : 502
    refuse(res, exchange.status, timeout ? 'timeout' : 'unreachable', exchange.problems.at(-1)!)
    return
  }
  exchange.serviceStatus = response.status
  const bytes = Buffer.from(await response.arrayBuffer())
  if (r.proxyVersion === 1) {
    const inner = unwrapV1(response.status, bytes.toString('utf8'))
    if (typeof inner === 'string') {
      exchange.outcome = 'failed'
      exchange.status = 502
      exchange.problems.push(inner)
      refuse(res, 502, 'proxy-v1-envelope', inner)
      return
    }
    exchange.status = inner.status
    res.writeHead(inner.status, {
      'content-type': inner.type,
      'content-length': Buffer.byteLength(inner.body),
    })
    res.end(inner.body)
    return
  }
  exchange.status = response.status
  const out: Record<string, string> = {}
  response.headers.forEach((value, name) => {
    if (!RESPONSE_DROP.has(name) && name !== 'set-cookie') out[name] = value
  })
  const cookies = response.headers.getSetCookie()
  res.writeHead(response.status, {
    ...out,
    ...(cookies.length > 0 ? { 'set-cookie': cookies } : {}),
    'content-length': bytes.length,
  })
  res.end(bytes)
}

async function handleRequest(
  r: Resolved,
  req: IncomingMessage,
  res: ServerResponse,
  ready: () => Promise<LocalProxyUser>,
): Promise<void> {
  const started = performance.now()
  const method = (req.method ?? 'GET').toUpperCase()
  const exchange: LocalProxyExchange = {
    method,
    url: appUrlOf(req, r.publicBase),
    outcome: 'forwarded',
    status: 0,
    stripped: [],
    added: [],
    problems: [],
    ms: 0,
  }
  try {
    const source = refusedSource(r, req.headers)
    if (source !== undefined) {
      exchange.outcome = 'refused'
      exchange.status = 403
      exchange.problems.push(source.message)
      refuse(res, 403, source.reason, source.message)
      req.resume()
      return
    }
    const contentType = req.headers['content-type']
    const [check] = checkAllowedUrls({
      patterns: r.patterns,
      requests: [{ url: exchange.url, method, ...(contentType === undefined ? {} : { contentType }) }],
    }).requests
    if (check?.matchedPattern !== undefined) exchange.matchedPattern = check.matchedPattern
    const errors = check?.problems.filter((p) => p.severity === 'error') ?? []
    for (const problem of check?.problems ?? []) exchange.problems.push(problem.message)
    if (!isUnder(exchange.url, r.publicBase)) {
      exchange.problems.push(
        `the URL is outside ${r.publicBase}: this stand-in forwards only to the partner service`,
      )
      errors.push({ severity: 'error', rule: 'url', message: exchange.problems.at(-1)! })
    }
    if (errors.length > 0) {
      exchange.outcome = 'refused'
      exchange.status = errors.some((e) => e.rule === 'method') ? 405 : 403
      refuse(
        res,
        exchange.status,
        errors[0]!.rule === 'pattern' ? 'url-not-allowed' : errors[0]!.rule,
        errors[0]!.message,
      )
      req.resume()
      return
    }
    await relay(r, req, res, await ready(), exchange)
  } catch (error) {
    exchange.outcome = isEvotorError(error) ? 'refused' : 'failed'
    exchange.status = isEvotorError(error) ? error.status : 502
    exchange.problems.push(error instanceof Error ? error.message : String(error))
    if (!res.headersSent) refuse(res, exchange.status, 'proxy', exchange.problems.at(-1)!)
    else res.destroy()
  } finally {
    exchange.ms = Math.round(performance.now() - started)
    r.onExchange(exchange)
  }
}

/** Answers on a socket Node handed over (an upgrade or a CONNECT) and closes it. */
function refuseOnSocket(
  socket: Duplex,
  statusLine: string,
  reason: string,
  message: string,
  extra = '',
): void {
  const body = JSON.stringify({ errors: [{ reason, subject: 'url' }], message })
  socket.end(
    `HTTP/1.1 ${statusLine}\r\n${extra}content-type: ${JSON_TYPE}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  )
}

function refuseUpgrade(r: Resolved, req: IncomingMessage, socket: Duplex): void {
  const message = 'WebSocket is not supported by the terminal'
  refuseOnSocket(socket, '403 Forbidden', 'protocol', message)
  r.onExchange({
    method: req.method ?? 'GET',
    url: appUrlOf(req, r.publicBase).replace(/^http/, 'ws'),
    outcome: 'refused',
    status: 403,
    stripped: [],
    added: [],
    problems: [message],
    ms: 0,
  })
}

/** CONNECT (an app set to tunnel HTTPS through this proxy): a clear 405 instead of a dropped socket. */
function refuseConnect(r: Resolved, req: IncomingMessage, socket: Duplex): void {
  const message = `CONNECT (HTTPS through a proxy) is not supported: call this stand-in's own http:// address, a request to <proxy>/x stands for ${r.publicBase}/x`
  refuseOnSocket(socket, '405 Method Not Allowed', 'method', message, 'allow: GET, POST, PUT, DELETE\r\n')
  r.onExchange({
    method: 'CONNECT',
    url: `https://${(req.url ?? '').slice(0, 300)}`,
    outcome: 'refused',
    status: 405,
    stripped: [],
    added: [],
    problems: [message],
    ms: 0,
  })
}

/**
 * Creates a local stand-in for the Evotor cloud proxy, for developing a terminal app against
 * your partner service without the real cloud. For each request of the app it:
 * refuses what the terminal and the portal refuse (a URL no allowed-URL pattern matches as Java
 * would, a port other than 80/443, WebSocket, a method outside GET/POST/PUT/DELETE); strips the
 * reserved and terminal headers and the app's `Authorization`; adds `X-Evotor-Store-Uuid`,
 * `X-Evotor-Device-UUID`, `X-Evotor-User-Id` and `Authorization: Bearer <user token>`; forwards
 * to the service; in proxy ver. 1 checks and unwraps the `{status, body}` envelope, answering
 * 502 when the service forgot it; and reports every exchange with secrets masked.
 *
 * @param options - Target, the portal's patterns, the terminal user, proxy version.
 * @returns The proxy; call `listen()` or mount `handle`.
 * @throws {TypeError} When an option is invalid (naming it), e.g. a pattern Java would refuse.
 *
 * @example
 * ```ts
 * import { createLocalProxy } from 'evotor-partner/testing'
 * const proxy = createLocalProxy({
 *   target: 'http://127.0.0.1:3000',
 *   publicUrl: 'https://partner.example.com',
 *   patterns: ['https://partner\\.example\\.com/trpc/.*'],
 *   userCreate: { appToken: process.env.EVOTOR_APP_TOKEN ?? '' },
 *   onExchange: (exchange) => console.log(exchange.method, exchange.url, exchange.status),
 * })
 * const url = await proxy.listen(8080) // the app calls http://127.0.0.1:8080/trpc/whoami
 * ```
 */
export function createLocalProxy(options: LocalProxyOptions): LocalProxy {
  const r = resolveOptions(options)
  const base = {
    userId: options.user?.userId ?? randomUserId(),
    storeUuid: options.user?.storeUuid ?? randomEvotorUuid(),
    deviceUuid: options.user?.deviceUuid ?? randomEvotorUuid(),
  }
  let pending: Promise<LocalProxyUser> | undefined
  const ready = (): Promise<LocalProxyUser> => {
    pending ??= (async () => {
      const token = options.user?.token ?? (await obtainToken(options, r.target, base.userId, r.fetch))
      return { ...base, token }
    })()
    pending.catch(() => {
      pending = undefined
    })
    return pending
  }
  let server: Server | undefined
  return {
    handle: (req, res) => handleRequest(r, req, res, ready),
    user: async () => {
      await ready()
      return { ...base }
    },
    ready: async () => {
      await ready()
    },
    async listen(port = 0, host = '127.0.0.1') {
      await ready()
      const created = createServer((req, res) => void handleRequest(r, req, res, ready))
      created.on('upgrade', (req, socket) => refuseUpgrade(r, req, socket))
      created.on('connect', (req, socket) => refuseConnect(r, req, socket))
      await new Promise<void>((resolve, reject) => {
        created.once('error', reject)
        created.listen(port, host, () => resolve())
      })
      server = created
      const { port: bound } = created.address() as AddressInfo
      return `http://${host.includes(':') ? `[${host}]` : host}:${bound}`
    },
    async close() {
      const running = server
      server = undefined
      if (running === undefined) return
      await new Promise<void>((resolve) => {
        running.close(() => resolve())
        running.closeAllConnections()
      })
    },
  }
}

/**
 * One line per exchange for a console, secrets already masked.
 *
 * @param exchange - What {@link LocalProxyOptions.onExchange} received.
 * @returns A multi-line description.
 *
 * @example
 * ```ts
 * import { createLocalProxy, formatLocalProxyExchange } from 'evotor-partner/testing'
 * createLocalProxy({
 *   target: 'http://127.0.0.1:3000',
 *   patterns: ['http://127\\.0\\.0\\.1:3000/.*'],
 *   user: { token: 'dev-token' },
 *   onExchange: (e) => process.stderr.write(formatLocalProxyExchange(e)),
 * })
 * ```
 */
export function formatLocalProxyExchange(exchange: LocalProxyExchange): string {
  const mark = exchange.outcome === 'forwarded' ? '→' : exchange.outcome === 'refused' ? '✗' : '!'
  const lines = [
    `${mark} ${exchange.method} ${exchange.url} ${exchange.status} (${exchange.ms} ms) ${exchange.outcome}`,
  ]
  if (exchange.matchedPattern !== undefined) lines.push(`    allowed by ${exchange.matchedPattern}`)
  if (exchange.forwardedTo !== undefined) {
    const service =
      exchange.serviceStatus === undefined ? '' : `, the service answered ${exchange.serviceStatus}`
    lines.push(`    forwarded to ${exchange.forwardedTo}${service}`)
  }
  if (exchange.stripped.length > 0) lines.push(`    stripped ${exchange.stripped.join(', ')}`)
  if (exchange.added.length > 0) lines.push(`    added ${exchange.added.join('; ')}`)
  for (const problem of exchange.problems) lines.push(`    ${problem}`)
  return `${lines.join('\n')}\n`
}
