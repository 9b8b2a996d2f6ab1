import { z } from 'zod'
import { EVOTOR_ROUTES, ROUTE_NAMES, type RouteName } from '../protocol/routes.js'
import {
  buildAuthorization,
  buildDevices,
  buildDocuments,
  buildEmployees,
  buildInstallationEvent,
  buildProducts,
  buildProxyHeaders,
  buildReceipt,
  buildStores,
  buildSubscriptionEvent,
  buildUserCreate,
  buildUserToken,
  buildUserVerify,
  type ProductPayload,
  randomBarcode,
  randomEvotorUuid,
  randomToken,
  randomUserId,
  randomUuid,
  type SubscriptionEventPayload,
} from './builders.js'
import {
  apparentProxyVersion,
  checkUserTokenFormat,
  expectEvotorError,
  expectExact200,
  type ProxyAnswer,
  readProxyAnswer,
} from './checks.js'
import { type CheckRequestRecord, type CheckResponseRecord, type Exchange, send } from './http.js'

/**
 * Every check of the suite, in the order it runs. Use them with `only` / `skip`.
 *
 * @example
 * ```ts
 * import { CONFORMANCE_CHECK_IDS } from 'evotor-partner/testing'
 * CONFORMANCE_CHECK_IDS.includes('subscription.duplicate') // true
 * ```
 */
export const CONFORMANCE_CHECK_IDS = [
  'user.create',
  'user.verify',
  'user.token-format',
  'user.create.retry',
  'user.token',
  'subscription.created',
  'subscription.duplicate',
  'subscription.out-of-order',
  'installation.installed',
  'inventory.stores',
  'inventory.devices',
  'inventory.employees',
  'inventory.products',
  'documents',
  'receipts',
  'commodities',
  'proxy.authorized',
  'proxy.forged-headers',
  'proxy.user-mismatch',
  'negative.app-credential',
  'negative.missing-field',
  'negative.bad-json',
  'negative.user-token',
  'installation.uninstalled',
  'proxy.after-uninstall',
] as const

/**
 * The id of one check.
 *
 * @example
 * ```ts
 * const id: ConformanceCheckId = 'negative.bad-json'
 * ```
 */
export type ConformanceCheckId = (typeof CONFORMANCE_CHECK_IDS)[number]

/**
 * Outcome of one check: `blocked` means a check it needs did not pass (the message names it),
 * so it was not run; `skip` means it was not selected or cannot run with these options.
 *
 * @example
 * ```ts
 * const failed = report.results.filter((r) => r.status === ('fail' satisfies CheckStatus))
 * ```
 */
export type CheckStatus = 'pass' | 'fail' | 'skip' | 'blocked'

/**
 * One line of the report: what was sent, what came back, and the protocol rule it was judged by.
 * `request.headers.authorization` is redacted and `token`/`password` body fields are replaced by
 * their length.
 *
 * @example
 * ```ts
 * for (const r of report.results) if (r.status === 'fail') console.log(r.id, r.rule, r.message)
 * ```
 */
export interface CheckResult {
  id: ConformanceCheckId
  title: string
  status: CheckStatus
  /** Protocol section and the rule in short. */
  rule: string
  /** The (last) request of the check, when one was sent. */
  request?: CheckRequestRecord
  /** Its answer, when one came back. */
  response?: CheckResponseRecord
  message: string
  /** Duration of the check in ms. */
  ms: number
}

/**
 * Counts of the report.
 *
 * @example
 * ```ts
 * const { passed, failed, skipped }: ConformanceSummary = report.summary
 * ```
 */
export interface ConformanceSummary {
  total: number
  passed: number
  failed: number
  skipped: number
  /** Not run because a check they need failed or was itself blocked. */
  blocked: number
}

/**
 * What {@link runConformance} returns. `ok` is `true` when no check failed.
 *
 * @example
 * ```ts
 * const report: ConformanceReport = await runConformance({ baseUrl, appToken })
 * if (!report.ok) process.exitCode = 1
 * ```
 */
export interface ConformanceReport {
  ok: boolean
  /** The base URL without any user:password part. */
  baseUrl: string
  proxyVersion: 1 | 2
  /** The Evotor user id the run played. */
  userId: string
  startedAt: string
  durationMs: number
  summary: ConformanceSummary
  results: CheckResult[]
  /**
   * Things to say once, before the table: e.g. answers that look like the other proxy version
   * than the one the run expects (so the real problem is the `--proxy-version` or the service).
   */
  notices: string[]
}

/**
 * Options of {@link runConformance}. One of `appToken` / `appBasic` is required: it is the
 * partner app credential typed into the developer portal.
 *
 * @example
 * ```ts
 * const options: ConformanceOptions = {
 *   baseUrl: 'http://127.0.0.1:3000',
 *   appToken: process.env.EVOTOR_APP_TOKEN,
 *   proxyPath: '/api/terminal/whoami',
 *   proxyVersion: 2,
 * }
 * ```
 */
export interface ConformanceOptions {
  /** Where the partner service listens, e.g. `http://127.0.0.1:3000` (a path prefix is kept). */
  baseUrl: string
  /** App credential sent as `Authorization: Bearer <appToken>`. */
  appToken?: string
  /** App credential sent as `Authorization: Basic base64(username:password)`. */
  appBasic?: { username: string; password: string }
  /** Proxy version configured on the portal: 2 (pass-through, default) or 1 (`{status, body}` envelope). */
  proxyVersion?: 1 | 2
  /**
   * A terminal-facing path of the service, called like the cloud proxy does (`X-Evotor-*` and
   * the user token). Without it the `proxy.*` checks are skipped.
   */
  proxyPath?: string
  /** Method of the proxied requests. Default `GET`. */
  proxyMethod?: 'GET' | 'POST' | 'PUT' | 'DELETE'
  /**
   * A terminal-facing path whose answer reflects the user's state (e.g. the subscription and its
   * applied events). Read before and after the duplicate event: the answers must be equal, which
   * is how a service that applies a duplicate twice becomes visible from outside.
   */
  statePath?: string
  /** In-process alternative to `statePath`: read the service's state directly (e.g. its database). */
  observeState?: (context: { userId: string; subscriptionId: string }) => unknown
  /** Paths that differ from the protocol defaults, by route name (`products`: use `:storeUuid`). */
  paths?: Partial<Record<RouteName, string>>
  /** Log in with an existing partner account through `user/verify` instead of `user/create`. */
  verify?: { username: string; password: string }
  /** Credential on subscription/installation events: `'app'` (docs, default) or `'user'` ([API]) — protocol §4.2. */
  eventCredential?: 'app' | 'user'
  /** Run only these checks (their prerequisites run silently). */
  only?: readonly string[]
  /** Leave out these checks. */
  skip?: readonly string[]
  /** Deadline of every answer in ms. Default `10_000` (the Evotor cloud's, protocol §5.1). */
  timeoutMs?: number
  /** Evotor user id to play; default a fresh random `^[0-9]{2}-[0-9]{15}$` id. */
  userId?: string
  /** Called after each check with its result (for progress output). */
  onProgress?: (result: CheckResult) => void
  /** `fetch` to use; default the global one. */
  fetch?: typeof fetch
}

interface Outcome {
  status: CheckStatus
  message: string
  exchange?: Exchange | undefined
}

interface Step {
  id: ConformanceCheckId
  title: string
  rule: string
  /** Must have passed (they provide what this check uses, e.g. the user token). */
  needs: readonly ConformanceCheckId[]
  /** Must have been delivered before (any answer): the cloud's order, not a success condition. */
  after: readonly ConformanceCheckId[]
  run: () => Promise<Outcome>
}

const pass = (exchange?: Exchange, message = 'ok'): Outcome => ({ status: 'pass', message, exchange })
const fail = (message: string, exchange?: Exchange): Outcome => ({ status: 'fail', message, exchange })
const skipped = (message: string): Outcome => ({ status: 'skip', message })
const blocked = (message: string): Outcome => ({ status: 'blocked', message })
const verdict = (problem: string | undefined, exchange: Exchange, message = 'ok'): Outcome =>
  problem === undefined ? pass(exchange, message) : fail(problem, exchange)

const RULE_200 = '§5.1: a notification is delivered only by exactly HTTP 200 (not 201/202/204) within 10 s'
const RULE_PROXY_AUTH =
  '§3.2: X-Evotor-* headers may be trusted only after the user token is verified, and the token user must equal X-Evotor-User-Id; refuse with 401 (enveloped in ver. 1, §7.4)'

const CONTENT_TYPE = 'application/json;charset=UTF-8'

function fail_(option: string, rule: string): never {
  throw new TypeError(`runConformance: ${option} ${rule}`)
}

function checkIds(option: 'only' | 'skip', ids: unknown): Set<ConformanceCheckId> | undefined {
  if (ids === undefined) return undefined
  if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string'))
    fail_(option, 'must be an array of check ids')
  const known = new Set<string>(CONFORMANCE_CHECK_IDS)
  const unknown = ids.filter((id) => !known.has(id))
  if (unknown.length > 0) {
    fail_(option, `has unknown check ids: ${unknown.join(', ')} (known: ${CONFORMANCE_CHECK_IDS.join(', ')})`)
  }
  return new Set(ids as ConformanceCheckId[])
}

function checkPath(option: string, value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/')) fail_(option, "must be a path starting with '/'")
  return value
}

function credentialLabel(options: ConformanceOptions): string {
  if (options.appToken !== undefined) return buildAuthorization({ bearer: options.appToken })
  if (options.appBasic !== undefined) return buildAuthorization({ basic: options.appBasic })
  return fail_('appToken', 'or appBasic is required (the partner app credential)')
}

/**
 * Plays the Evotor cloud against a running partner service (any language) and checks every
 * answer against the protocol: the installation lifecycle (`user/create` or `user/verify`,
 * `user/token`, subscription events with a duplicate and an out-of-order pair, installation
 * events, stores/devices/employees, products, documents, receipts, a commodities lookup, the
 * uninstall), negative cases (wrong app credential, missing field, bad JSON, wrong user token),
 * and proxied terminal requests (authorised, forged headers, token/user mismatch, after uninstall).
 *
 * What it can and cannot observe: it sees only HTTP answers. Idempotency is checked as the
 * protocol demands it from outside — the duplicate and both events of the out-of-order pair must
 * each get exactly 200 — and, when `statePath` or `observeState` is given, by reading the
 * service's state before and after the duplicate (it must not change). A service that silently
 * applies a duplicate twice and exposes no state cannot be caught from outside.
 *
 * Out-of-order rule (protocol §6.5, §11 A51): seq 3 is sent before seq 2 (seq 2 follows while
 * seq 3 may still be held). Seq 2 must get 200. Seq 3 passes if it got 200, or if it got a
 * non-200 "not yet" answer (the cloud re-sends it) and the re-send after seq 2 gets 200. A
 * timeout on seq 3 fails.
 *
 * @example
 * ```ts
 * import { runConformance } from 'evotor-partner/testing'
 * const report = await runConformance({ baseUrl: 'http://127.0.0.1:3000', appToken: 'app-token' })
 * expect(report.results.filter((r) => r.status === 'fail')).toEqual([])
 * ```
 */
export async function runConformance(options: ConformanceOptions): Promise<ConformanceReport> {
  if (typeof options !== 'object' || options === null) fail_('options', 'must be an object')
  let baseUrl: URL
  try {
    baseUrl = new URL(options.baseUrl)
  } catch {
    return fail_('baseUrl', 'must be an absolute http(s) URL')
  }
  if (baseUrl.protocol !== 'http:' && baseUrl.protocol !== 'https:')
    fail_('baseUrl', 'must be an http(s) URL')
  if (options.appToken !== undefined && (typeof options.appToken !== 'string' || options.appToken === '')) {
    fail_('appToken', 'must be a non-empty string')
  }
  if (
    options.appBasic !== undefined &&
    (typeof options.appBasic?.username !== 'string' || typeof options.appBasic?.password !== 'string')
  ) {
    fail_('appBasic', 'must be { username: string, password: string }')
  }
  if (options.appToken !== undefined && options.appBasic !== undefined) {
    fail_('appToken', 'and appBasic are exclusive: the portal holds one app credential')
  }
  const appAuthorization = credentialLabel(options)
  const proxyVersion = options.proxyVersion ?? 2
  if (proxyVersion !== 1 && proxyVersion !== 2) fail_('proxyVersion', 'must be 1 or 2')
  const proxyPath = options.proxyPath === undefined ? undefined : checkPath('proxyPath', options.proxyPath)
  const statePath = options.statePath === undefined ? undefined : checkPath('statePath', options.statePath)
  const proxyMethod = options.proxyMethod ?? 'GET'
  if (!['GET', 'POST', 'PUT', 'DELETE'].includes(proxyMethod))
    fail_('proxyMethod', 'must be GET, POST, PUT or DELETE')
  if (options.observeState !== undefined && typeof options.observeState !== 'function') {
    fail_('observeState', 'must be a function')
  }
  const timeoutMs = options.timeoutMs ?? 10_000
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    fail_('timeoutMs', 'must be a positive number of ms')
  }
  const userId = options.userId ?? randomUserId()
  if (typeof userId !== 'string' || userId === '') fail_('userId', 'must be a non-empty string')
  const eventCredential = options.eventCredential ?? 'app'
  if (eventCredential !== 'app' && eventCredential !== 'user')
    fail_('eventCredential', "must be 'app' or 'user'")
  if (
    options.verify !== undefined &&
    (typeof options.verify?.username !== 'string' || typeof options.verify?.password !== 'string')
  ) {
    fail_('verify', 'must be { username: string, password: string }')
  }
  const paths: Record<RouteName, string> = Object.fromEntries(
    ROUTE_NAMES.map((name) => [name, EVOTOR_ROUTES[name].path]),
  ) as Record<RouteName, string>
  for (const [name, path] of Object.entries(options.paths ?? {})) {
    if (!(ROUTE_NAMES as readonly string[]).includes(name)) {
      fail_('paths', `has an unknown route "${name}" (known: ${ROUTE_NAMES.join(', ')})`)
    }
    paths[name as RouteName] = checkPath(`paths.${name}`, path)
  }
  const only = checkIds('only', options.only)
  const skip = checkIds('skip', options.skip)
  const fetchImpl = options.fetch ?? globalThis.fetch
  if (typeof fetchImpl !== 'function') fail_('fetch', 'must be a function')

  // Fresh ids per run so repeated runs against one database never collide.
  const state = {
    token: undefined as string | undefined,
    login: undefined as Exchange | undefined,
    subscriptionId: randomUuid(),
    storeUuid: randomEvotorUuid(),
    deviceUuid: randomEvotorUuid(),
    employeeUuid: randomEvotorUuid(),
    barcode: randomBarcode(),
    products: [] as ProductPayload[],
  }
  state.products = buildProducts({ barcode: state.barcode })
  const sold = state.products[1] as ProductPayload
  const soldProduct = { uuid: sold.uuid, name: sold.name, price: sold.price as number }
  const loginRoute: RouteName = options.verify === undefined ? 'userCreate' : 'userVerify'

  const pathOf = (route: RouteName): string =>
    paths[route]
      .replace(':storeUuid', encodeURIComponent(state.storeUuid))
      .replace('{storeUuid}', encodeURIComponent(state.storeUuid))

  const request = (
    route: RouteName,
    authorization: string | undefined,
    extra: { body?: unknown; rawBody?: string; query?: string } = {},
  ): Promise<Exchange> => {
    const { method } = EVOTOR_ROUTES[route]
    const headers: Record<string, string> = { accept: CONTENT_TYPE, 'accept-charset': 'UTF-8' }
    if (method !== 'GET') headers['content-type'] = CONTENT_TYPE
    if (authorization !== undefined) headers.authorization = authorization
    return send({
      fetch: fetchImpl,
      baseUrl,
      method,
      path: pathOf(route) + (extra.query ?? ''),
      headers,
      ...(extra.body === undefined ? {} : { body: extra.body }),
      ...(extra.rawBody === undefined ? {} : { rawBody: extra.rawBody }),
      timeoutMs,
    })
  }
  const userAuthorization = (): string => `Bearer ${state.token ?? ''}`
  const eventAuthorization = (): string =>
    eventCredential === 'app' ? appAuthorization : userAuthorization()
  const proxied = (path: string, headers: Record<string, string>): Promise<Exchange> =>
    send({
      fetch: fetchImpl,
      baseUrl,
      method: proxyMethod,
      path,
      headers: proxyMethod === 'GET' ? headers : { ...headers, 'content-type': CONTENT_TYPE },
      ...(proxyMethod === 'GET' || proxyMethod === 'DELETE' ? {} : { body: {} }),
      timeoutMs,
    })
  const proxyHeaders = (token: string | undefined, asUser = userId): Record<string, string> =>
    buildProxyHeaders({
      ...(token === undefined ? {} : { token }),
      userId: asUser,
      storeUuid: state.storeUuid,
      deviceUuid: state.deviceUuid,
    })

  const notification =
    (route: RouteName, body: unknown, authorization = userAuthorization()) =>
    async () => {
      const exchange = await request(route, authorization, { body })
      return verdict(expectExact200(exchange), exchange)
    }

  const subscriptionEvent = (type: SubscriptionEventPayload['type'], sequenceNumber: number) =>
    buildSubscriptionEvent(type, { subscriptionId: state.subscriptionId, sequenceNumber, userId })
  const created = subscriptionEvent('SubscriptionCreated', 1)

  const readState = async (): Promise<{ value: string } | { problem: string }> => {
    if (options.observeState !== undefined) {
      try {
        const value = await options.observeState({ userId, subscriptionId: state.subscriptionId })
        return { value: JSON.stringify(value) ?? 'undefined' }
      } catch (error) {
        return { problem: `observeState threw: ${error instanceof Error ? error.message : String(error)}` }
      }
    }
    const exchange = await proxied(statePath as string, proxyHeaders(state.token))
    const answer = readProxy(exchange)
    if (typeof answer === 'string') return { problem: `reading statePath: ${answer}` }
    if (answer.status < 200 || answer.status > 299)
      return { problem: `reading statePath: got status ${answer.status}` }
    return { value: JSON.stringify(answer.body) }
  }

  // Answers that look like the other proxy version: said once at the top of the report.
  const versionSeen = { 1: 0, 2: 0 }
  const readProxy = (exchange: Exchange): ProxyAnswer | string => {
    const apparent = apparentProxyVersion(exchange)
    if (apparent !== undefined) versionSeen[apparent]++
    return readProxyAnswer(exchange, proxyVersion)
  }
  const proxyRefusal = (answer: ProxyAnswer | string, allowed: readonly number[]): string | undefined => {
    if (typeof answer === 'string') return answer
    if (allowed.includes(answer.status)) return undefined
    return `expected the request to be refused with ${allowed.join('/')}, got ${answer.status}`
  }
  const noProxy = 'no proxyPath given (--proxy-path): proxied checks need a terminal-facing path'

  const steps: Step[] = []
  const add = (
    step: Omit<Step, 'needs' | 'after'> & {
      needs?: readonly ConformanceCheckId[]
      after?: readonly ConformanceCheckId[]
    },
  ) => steps.push({ needs: [], after: [], ...step })
  const login: ConformanceCheckId = loginRoute === 'userCreate' ? 'user.create' : 'user.verify'
  const withToken = [login] as const
  const eventNeeds = eventCredential === 'user' ? withToken : []

  add({
    id: login,
    title:
      loginRoute === 'userCreate'
        ? 'user/create issues a user token'
        : 'user/verify logs in and issues a user token',
    rule:
      loginRoute === 'userCreate'
        ? '§6.1: answer exactly 200 with {userId (echoed), token}'
        : '§6.2: answer exactly 200 with {userId (echoed), hasBilling: boolean, token}',
    run: async () => {
      const body =
        options.verify === undefined
          ? buildUserCreate({ userId })
          : buildUserVerify({ userId, username: options.verify.username, password: options.verify.password })
      const exchange = await request(loginRoute, appAuthorization, { body })
      const problem = expectExact200(exchange)
      if (problem !== undefined) return fail(problem, exchange)
      // Token grammar is judged by user.token-format; here only the shape of the answer.
      const schema = (EVOTOR_ROUTES[loginRoute].response as z.ZodObject).extend({ token: z.string().min(1) })
      const parsed = schema.safeParse(exchange.json)
      if (!exchange.isJson || !parsed.success) {
        const issues = parsed.success ? 'not JSON' : z.prettifyError(parsed.error).replaceAll('\n', ' ')
        return fail(`answer does not match the response schema: ${issues}`, exchange)
      }
      const answer = parsed.data as { userId: string; token: string }
      if (answer.userId !== userId)
        return fail(`userId must echo the request (${userId}), got ${answer.userId}`, exchange)
      state.token = answer.token
      state.login = exchange
      return pass(exchange, `token issued (${answer.token.length} chars)`)
    },
  })
  add({
    id: 'user.token-format',
    title: 'the issued user token fits the header grammar',
    rule: '§4.1, §4.3: a user token is at most 128 characters of [A-Za-z0-9_-]',
    needs: withToken,
    run: async () => {
      const problem = checkUserTokenFormat(state.token)
      return problem === undefined
        ? pass(state.login, `${state.token?.length} chars of [A-Za-z0-9_-]`)
        : fail(problem, state.login)
    },
  })
  if (loginRoute === 'userCreate') {
    add({
      id: 'user.create.retry',
      title: 'a repeated user/create for the same userId answers 200',
      rule: '§5.1, §11 A56: a retried create for an existing userId returns 200 with a token, not 2005',
      needs: withToken,
      run: async () => {
        const exchange = await request('userCreate', appAuthorization, { body: buildUserCreate({ userId }) })
        const problem = expectExact200(exchange)
        if (problem !== undefined) return fail(problem, exchange)
        const token = (exchange.json as { token?: unknown } | undefined)?.token
        if (typeof token !== 'string' || token === '') return fail('the answer carries no token', exchange)
        return pass(exchange, token === state.token ? 'same token returned' : 'a new token was returned')
      },
    })
  }
  add({
    id: 'user.token',
    title: 'user/token accepts the Evotor cloud token',
    rule: '§6.3: answer exactly 200 (app credential)',
    run: async () => {
      const exchange = await request('userToken', appAuthorization, { body: buildUserToken({ userId }) })
      return verdict(expectExact200(exchange), exchange)
    },
  })
  add({
    id: 'subscription.created',
    title: 'SubscriptionCreated (seq 1) is acknowledged',
    rule: RULE_200,
    needs: eventNeeds,
    run: () => notification('subscriptionEvent', created, eventAuthorization())(),
  })
  add({
    id: 'subscription.duplicate',
    title: 'a duplicate of SubscriptionCreated is acknowledged and not applied again',
    rule: '§5.1: at-least-once delivery; a duplicate (same subscriptionId, sequenceNumber) gets exactly 200 and changes nothing',
    needs: eventNeeds,
    after: ['subscription.created'],
    run: async () => {
      const observe = statePath !== undefined || options.observeState !== undefined
      const before = observe ? await readState() : undefined
      if (before !== undefined && 'problem' in before) return fail(before.problem)
      const exchange = await request('subscriptionEvent', eventAuthorization(), { body: created })
      const problem = expectExact200(exchange)
      if (problem !== undefined) return fail(`duplicate delivery: ${problem}`, exchange)
      if (before === undefined) return pass(exchange, 'acknowledged (state not observed: no statePath)')
      const after = await readState()
      if ('problem' in after) return fail(after.problem, exchange)
      if (after.value !== before.value) {
        return fail(
          `the duplicate was applied again: state changed from ${cut(before.value)} to ${cut(after.value)}`,
          exchange,
        )
      }
      return pass(exchange, 'acknowledged; state unchanged')
    },
  })
  add({
    id: 'subscription.out-of-order',
    title: 'seq 3 before seq 2: both end up acknowledged with 200',
    rule: '§6.5, §11 A51: events may arrive out of order; seq 2 gets 200; an early seq 3 gets 200, or a non-200 "not yet" and 200 on the re-send after seq 2',
    needs: eventNeeds,
    after: ['subscription.created'],
    run: async () => {
      const late = subscriptionEvent('SubscriptionActivated', 2)
      const early = subscriptionEvent('SubscriptionRenewed', 3)
      const earlyPending = request('subscriptionEvent', eventAuthorization(), { body: early })
      // Seq 2 goes out while seq 3 may still be held by the service (as parallel cloud retries do).
      await Promise.race([earlyPending, new Promise((resolve) => setTimeout(resolve, 150))])
      const second = await request('subscriptionEvent', eventAuthorization(), { body: late })
      const first = await earlyPending
      if (first.failure !== undefined) return fail(`seq 3 (sent first): ${first.failure}`, first)
      const problem = expectExact200(second)
      if (problem !== undefined) return fail(`seq 2 (sent after seq 3): ${problem}`, second)
      if (first.status === 200) return pass(first, 'seq 3 and seq 2 acknowledged with 200')
      const resend = await request('subscriptionEvent', eventAuthorization(), { body: early })
      const again = expectExact200(resend)
      if (again !== undefined) {
        return fail(`seq 3 got ${first.status} before seq 2, and its re-send after seq 2: ${again}`, resend)
      }
      return pass(resend, `seq 3 got ${first.status} ("not yet") before seq 2, 200 on the re-send`)
    },
  })
  add({
    id: 'installation.installed',
    title: 'ApplicationInstalled is acknowledged',
    rule: `§6.6, ${RULE_200}`,
    needs: eventNeeds,
    run: () =>
      notification(
        'installationEvent',
        buildInstallationEvent('ApplicationInstalled', { userId }),
        eventAuthorization(),
      )(),
  })
  add({
    id: 'inventory.stores',
    title: 'stores are acknowledged',
    rule: `§6.7, ${RULE_200}`,
    needs: withToken,
    run: () => notification('stores', buildStores({ storeUuid: state.storeUuid }))(),
  })
  add({
    id: 'inventory.devices',
    title: 'terminals are acknowledged',
    rule: `§6.8, ${RULE_200}`,
    needs: withToken,
    run: () =>
      notification('devices', buildDevices({ storeUuid: state.storeUuid, deviceUuid: state.deviceUuid }))(),
  })
  add({
    id: 'inventory.employees',
    title: 'employees are acknowledged',
    rule: `§6.9, ${RULE_200}`,
    needs: withToken,
    run: () =>
      notification(
        'employees',
        buildEmployees({ storeUuid: state.storeUuid, employeeUuid: state.employeeUuid }),
      )(),
  })
  add({
    id: 'inventory.products',
    title: 'products created on a terminal are acknowledged',
    rule: `§6.10, ${RULE_200}`,
    needs: withToken,
    run: () => notification('products', state.products)(),
  })
  add({
    id: 'documents',
    title: 'terminal documents are acknowledged',
    rule: `§6.11, ${RULE_200}`,
    needs: withToken,
    run: () =>
      notification(
        'documents',
        buildDocuments({
          storeUuid: state.storeUuid,
          deviceUuid: state.deviceUuid,
          employeeUuid: state.employeeUuid,
          product: soldProduct,
        }),
      )(),
  })
  add({
    id: 'receipts',
    title: 'a receipt is acknowledged',
    rule: `§6.12, ${RULE_200}`,
    needs: withToken,
    run: () =>
      notification(
        'receipts',
        buildReceipt({
          userId,
          storeUuid: state.storeUuid,
          deviceUuid: state.deviceUuid,
          employeeUuid: state.employeeUuid,
          product: soldProduct,
        }),
      )(),
  })
  add({
    id: 'commodities',
    title: 'commodities finds a product sent earlier by its barcode',
    rule: '§6.4: answer exactly 200 with a commodity {name, measure, scanCodes, …}',
    needs: withToken,
    after: ['inventory.products'],
    run: async () => {
      const exchange = await request('commodities', userAuthorization(), {
        query: `?scanCode=${encodeURIComponent(state.barcode)}`,
      })
      const problem = expectExact200(exchange)
      if (problem !== undefined) return fail(problem, exchange)
      const parsed = EVOTOR_ROUTES.commodities.response.safeParse(exchange.json)
      if (!exchange.isJson || !parsed.success) {
        const issues = parsed.success ? 'not JSON' : z.prettifyError(parsed.error).replaceAll('\n', ' ')
        return fail(`answer does not match the commodity schema: ${issues}`, exchange)
      }
      const scanCodes = parsed.data.scanCodes
      if (Array.isArray(scanCodes) && !scanCodes.includes(state.barcode)) {
        return fail(
          `scanCodes of the answer do not contain the barcode looked up (${state.barcode})`,
          exchange,
        )
      }
      return pass(exchange, `found "${parsed.data.name}"`)
    },
  })
  const proxyAfter = ['inventory.stores', 'inventory.devices'] as const
  add({
    id: 'proxy.authorized',
    title: 'a proxied terminal request with the user token is served',
    rule: '§2.4, §3.2, §7: the proxied request (X-Evotor-*, Bearer user token) gets a 2xx (ver. 1: HTTP 200 + {status: 2xx, body})',
    needs: withToken,
    after: proxyAfter,
    run: async () => {
      if (proxyPath === undefined) return skipped(noProxy)
      const exchange = await proxied(proxyPath, proxyHeaders(state.token))
      const answer = readProxy(exchange)
      if (typeof answer === 'string') return fail(answer, exchange)
      if (answer.status < 200 || answer.status > 299)
        return fail(`expected a 2xx answer, got ${answer.status}`, exchange)
      return pass(exchange, `served with ${answer.status}`)
    },
  })
  add({
    id: 'proxy.forged-headers',
    title: 'X-Evotor-* headers without a token are refused',
    rule: RULE_PROXY_AUTH,
    needs: withToken,
    after: proxyAfter,
    run: async () => {
      if (proxyPath === undefined) return skipped(noProxy)
      const exchange = await proxied(proxyPath, proxyHeaders(undefined))
      return verdict(proxyRefusal(readProxy(exchange), [401]), exchange, 'refused')
    },
  })
  add({
    id: 'proxy.user-mismatch',
    title: 'a token of one user with X-Evotor-User-Id of another is refused',
    rule: RULE_PROXY_AUTH,
    needs: withToken,
    after: proxyAfter,
    run: async () => {
      if (proxyPath === undefined) return skipped(noProxy)
      let other = randomUserId()
      while (other === userId) other = randomUserId()
      const exchange = await proxied(proxyPath, proxyHeaders(state.token, other))
      return verdict(proxyRefusal(readProxy(exchange), [401]), exchange, 'refused')
    },
  })
  add({
    id: 'negative.app-credential',
    title: `a wrong app credential on ${paths[loginRoute]} is refused with 1001`,
    rule: '§4.2, §5.3: a wrong app credential gets 401 {"errors":[{"code":1001}]}',
    run: async () => {
      const wrong =
        options.appBasic === undefined
          ? buildAuthorization({ bearer: randomToken() })
          : buildAuthorization({ basic: { username: options.appBasic.username, password: randomToken(12) } })
      const body =
        loginRoute === 'userCreate'
          ? buildUserCreate({ userId: randomUserId() })
          : buildUserVerify({ userId: randomUserId(), username: 'nobody', password: randomToken(12) })
      const exchange = await request(loginRoute, wrong, { body })
      return verdict(
        expectEvotorError(exchange, { status: 401, code: 1001 }),
        exchange,
        'refused with 401/1001',
      )
    },
  })
  add({
    id: 'negative.missing-field',
    title: `${paths[loginRoute]} without userId is refused with 2002`,
    rule: '§5.3: a missing required field gets 400 {"errors":[{"code":2002,"reason":"missing","subject":"userId"}]}',
    run: async () => {
      const exchange = await request(loginRoute, appAuthorization, {
        body: { customField: 'Дополнительные данные о пользователе' },
      })
      return verdict(
        expectEvotorError(exchange, { status: 400, code: 2002, subject: /userId|userUuid/ }),
        exchange,
        'refused with 400/2002',
      )
    },
  })
  add({
    id: 'negative.bad-json',
    title: `unparseable JSON on ${paths[loginRoute]} is refused with 2001`,
    rule: '§5.3: a syntax error in the request gets 400 {"errors":[{"code":2001}]}',
    run: async () => {
      const exchange = await request(loginRoute, appAuthorization, { rawBody: `{"userId": "${userId}",` })
      return verdict(
        expectEvotorError(exchange, { status: 400, code: 2001 }),
        exchange,
        'refused with 400/2001',
      )
    },
  })
  add({
    id: 'negative.user-token',
    title: 'stores with an unknown user token are refused with 1002',
    rule: '§4.2, §5.3: an invalid user token gets 401 {"errors":[{"code":1002}]}',
    run: async () => {
      const exchange = await request('stores', `Bearer ${randomToken()}`, {
        body: buildStores({ storeUuid: randomEvotorUuid() }),
      })
      return verdict(
        expectEvotorError(exchange, { status: 401, code: 1002 }),
        exchange,
        'refused with 401/1002',
      )
    },
  })
  add({
    id: 'installation.uninstalled',
    title: 'ApplicationUninstalled is acknowledged',
    rule: `§6.6, ${RULE_200}`,
    needs: eventNeeds,
    run: () =>
      notification(
        'installationEvent',
        buildInstallationEvent('ApplicationUninstalled', { userId }),
        eventAuthorization(),
      )(),
  })
  add({
    id: 'proxy.after-uninstall',
    title: 'after ApplicationUninstalled the user token no longer opens proxied requests',
    rule: '§4.6, §1.3 step 7: revoke the user token on uninstall; a proxied call is refused with 401/402/403',
    // Meaningless unless the token opened the route before and the uninstall was acknowledged.
    needs: [...withToken, 'installation.uninstalled', 'proxy.authorized'],
    run: async () => {
      if (proxyPath === undefined) return skipped(noProxy)
      const exchange = await proxied(proxyPath, proxyHeaders(state.token))
      return verdict(proxyRefusal(readProxy(exchange), [401, 402, 403]), exchange, 'refused')
    },
  })

  // Selection: what the caller asked for, plus (silently) what those checks need.
  const planned = new Set(steps.map((step) => step.id))
  const selected = new Set(
    steps.map((step) => step.id).filter((id) => (only === undefined || only.has(id)) && !skip?.has(id)),
  )
  const toRun = new Set(selected)
  for (const step of [...steps].reverse()) {
    if (!toRun.has(step.id)) continue
    for (const need of [...step.needs, ...step.after]) if (planned.has(need)) toRun.add(need)
  }

  const started = Date.now()
  const results: CheckResult[] = []
  const outcomes = new Map<ConformanceCheckId, CheckStatus>()
  const messages = new Map<ConformanceCheckId, string>()
  for (const step of steps) {
    const base = { id: step.id, title: step.title, rule: step.rule }
    if (!toRun.has(step.id)) {
      const result: CheckResult = { ...base, status: 'skip', message: 'not selected (only/skip)', ms: 0 }
      results.push(result)
      options.onProgress?.(result)
      continue
    }
    const t0 = performance.now()
    const missing = step.needs.filter((need) => planned.has(need) && outcomes.get(need) !== 'pass')
    const undelivered = step.after.filter((before) => {
      const status = outcomes.get(before)
      return planned.has(before) && (status === undefined || status === 'skip')
    })
    let outcome: Outcome
    const failedNeeds = missing.filter((need) => {
      const status = outcomes.get(need)
      return status === 'fail' || status === 'blocked'
    })
    if (failedNeeds.length > 0) {
      outcome = blocked(`blocked: needs ${failedNeeds.join(', ')}, which failed`)
    } else if (missing.length > 0) {
      // Skipped for the same reason as what it needs (e.g. no proxy path), said the same way.
      const need = missing[0] as ConformanceCheckId
      outcome = skipped(messages.get(need) ?? `needs ${missing.join(', ')}, which was skipped`)
    } else if (undelivered.length > 0) {
      outcome = skipped(`needs ${undelivered.join(', ')} delivered first, which was skipped`)
    } else {
      try {
        outcome = await step.run()
      } catch (error) {
        outcome = fail(`the check crashed: ${error instanceof Error ? error.message : String(error)}`)
      }
    }
    outcomes.set(step.id, outcome.status)
    messages.set(step.id, outcome.message)
    // A prerequisite that was not selected is reported as a skip unless it failed: then it explains the blocks.
    if (!selected.has(step.id) && outcome.status !== 'fail') {
      const result: CheckResult = {
        ...base,
        status: 'skip',
        message: 'not selected (only/skip); ran as a prerequisite and passed',
        ms: 0,
      }
      results.push(result)
      options.onProgress?.(result)
      continue
    }
    const result: CheckResult = {
      ...base,
      status: outcome.status,
      ...(outcome.exchange === undefined ? {} : { request: outcome.exchange.request }),
      ...(outcome.exchange?.response === undefined ? {} : { response: outcome.exchange.response }),
      message: outcome.message,
      ms: Math.round(performance.now() - t0),
    }
    results.push(result)
    options.onProgress?.(result)
  }

  const summary: ConformanceSummary = {
    total: results.length,
    passed: results.filter((r) => r.status === 'pass').length,
    failed: results.filter((r) => r.status === 'fail').length,
    skipped: results.filter((r) => r.status === 'skip').length,
    blocked: results.filter((r) => r.status === 'blocked').length,
  }
  const notices: string[] = []
  const other = proxyVersion === 1 ? 2 : 1
  if (versionSeen[other] > 0 && versionSeen[proxyVersion] === 0) {
    notices.push(
      proxyVersion === 2
        ? `every proxied answer was HTTP 200 with a {"status","body"} envelope: the service answers as proxy ver. 1; run with --proxy-version 1, or switch the service to ver. 2`
        : `no proxied answer was a {"status","body"} envelope: the service answers as proxy ver. 2; run without --proxy-version 1, or switch the service to ver. 1`,
    )
  }
  const shown = new URL(baseUrl)
  shown.username = ''
  shown.password = ''
  return {
    ok: summary.failed === 0,
    baseUrl: shown.toString().replace(/\/$/, ''),
    proxyVersion,
    userId,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    summary,
    results,
    notices,
  }
}

function cut(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text
}
