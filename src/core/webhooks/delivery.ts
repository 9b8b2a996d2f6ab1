/**
 * One webhook delivery, step by step: authenticate, take the input, check the user, validate,
 * then run the handler (requests) or run it once and in order (notifications). Each step returns
 * its outcome; only `EvotorError`s for the answer are thrown, and `answerDelivery` turns them into
 * responses.
 */
import type { UnknownSubscriptionEvent } from '../../protocol/billing.js'
import { parseEvotorInstant } from '../../protocol/ids.js'
import { EVOTOR_ROUTES, type EvotorRouteDefinition, type RouteName } from '../../protocol/routes.js'
import { type ParsedAuthorization, parseAuthorization } from '../auth/authorization.js'
import { deadlineQueue } from '../deadlines.js'
import { EvotorError, type EvotorErrorItem, isEvotorError } from '../evotor-error.js'
import { getHeader } from '../headers.js'
import type { WebhookRequest, WebhookResponse } from '../http-types.js'
import {
  idempotencyKeyFor,
  parseSequenceNumber,
  runIdempotentOutcome,
  userScopedKey,
} from '../idempotency.js'
import { evotorErrorResponse, jsonResponse } from '../responses.js'
import {
  type BodyShapeProblem,
  inspectBody,
  MAX_BODY_DEPTH,
  MAX_INNER_ARRAY,
  parseRawJsonBodyChecked,
} from '../safe-json.js'
import { requestUser } from '../tenancy.js'
import { parseIncomingMaybeAsync, validateOutgoing } from '../validation.js'
import type { RouteMatch, RouteMatcher } from './matching.js'
import { hasHandler, unhandledAnswer, type WebhooksConfig } from './options.js'
import type { WebhookBody, WebhookContext, WebhookHandler } from './types.js'

/** A validated delivery: the handler's context, and the schema errors of an event acknowledged as invalid. */
interface Delivery {
  readonly context: WebhookContext<RouteName>
  readonly invalid: readonly EvotorErrorItem[] | undefined
}

type RunOutcome = 'ran' | 'done' | 'in-progress'

const EMPTY_200: WebhookResponse = { status: 200, headers: {}, body: '' }
// Not acknowledged on purpose: the cloud re-sends it later (protocol §5.1).
const RETRY_LATER = (): WebhookResponse => jsonResponse(503, {}, { 'retry-after': '60' })

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The open member of the event unions carries `type: 'Unknown'` (protocol §11 A20). */
function isUnknown(body: unknown): boolean {
  return isPlainObject(body) && body.type === 'Unknown'
}

type Authenticated = { credential: 'app' | 'user'; userId: string | undefined }

/**
 * Which credential authorised the request and, for a user token, whose it is; or the 401. Without a
 * promise when the app credential matches or the token's verification is cached (`peek`).
 */
function authenticate(
  config: WebhooksConfig,
  name: RouteName,
  request: WebhookRequest,
): Authenticated | Promise<Authenticated> {
  const accepts = config.credentials[name]
  const fail = accepts === 'user' ? EvotorError.invalidUserToken : EvotorError.invalidAppCredential
  let auth: ParsedAuthorization | undefined
  try {
    const raw = getHeader(request.headers, 'authorization')
    auth = raw === undefined ? undefined : parseAuthorization(raw)
  } catch {
    throw fail()
  }
  if (auth === undefined) throw fail()
  if (accepts !== 'user' && config.appVerifier.verify(auth)) return { credential: 'app', userId: undefined }
  if (accepts === 'app' || auth.scheme !== 'bearer' || config.userTokens === undefined) throw fail()
  const cached = config.userTokens.peek?.(auth.token)
  if (cached !== undefined) return { credential: 'user', userId: cached.userId }
  return verifyUserToken(config.userTokens, accepts, auth.token)
}

async function verifyUserToken(
  userTokens: NonNullable<WebhooksConfig['userTokens']>,
  accepts: WebhooksConfig['credentials'][RouteName],
  token: string,
): Promise<Authenticated> {
  try {
    const verified = await userTokens.verify(token)
    return { credential: 'user', userId: verified.userId }
  } catch (error) {
    // On app-or-user routes a token that is neither credential is a bad app credential (protocol §11 A53).
    if (isEvotorError(error) && accepts === 'app-or-user' && error.code === 1002) {
      throw EvotorError.invalidAppCredential()
    }
    throw error
  }
}

/**
 * The route's raw input: the query (commodities) or the JSON body, parsed; a body is sanitised by
 * {@link inspectBody} before anything reads it. `checkText`: whether strings may not be storable
 * text (see `parseRawJsonBodyChecked`); a body parsed elsewhere is always checked.
 */
function rawInput(def: EvotorRouteDefinition, request: WebhookRequest): { raw: unknown; checkText: boolean } {
  if (def.source === 'query') {
    const query = request.query
    if (query instanceof URLSearchParams) return { raw: Object.fromEntries(query), checkText: true }
    const out: Record<string, string> = {}
    for (const [key, value] of Object.entries(query ?? {})) {
      if (typeof value === 'string') out[key] = value
      else if (Array.isArray(value) && typeof value[0] === 'string') out[key] = value[0]
    }
    return { raw: out, checkText: true }
  }
  const body = request.body
  if (request.parsedBody === true) return { raw: body, checkText: true }
  if (typeof body === 'string' || body instanceof Uint8Array) {
    const parsed = parseRawJsonBodyChecked(body)
    return { raw: parsed.value, checkText: parsed.checkText }
  }
  if (body === undefined || body === null) throw EvotorError.syntax('body is empty')
  return { raw: body, checkText: true }
}

/** The top-level fields of an event; with `primitivesOnly`, its objects are left out (too deep). */
function shallowFields(raw: Record<string, unknown>, primitivesOnly: boolean): Record<string, unknown> {
  if (!primitivesOnly) return raw
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(raw))
    if (typeof value !== 'object' || value === null) out[key] = value
  return out
}

/** The validated input, or a promise of it for arrays validated in chunks (parseIncomingMaybeAsync). */
function validateInput(
  def: EvotorRouteDefinition,
  raw: unknown,
  problem: BodyShapeProblem | undefined,
): unknown {
  // Refused before any recursive or per-element code runs (design "Hostile bodies").
  if (problem?.kind === 'depth') throw EvotorError.syntax(`body nests deeper than ${MAX_BODY_DEPTH} levels`)
  if (problem?.kind === 'array') {
    throw new EvotorError(2003, {
      reason: 'incorrect',
      subject: problem.subject,
      value: null,
      message: `Evotor error 2003: ${problem.subject} has ${problem.length} elements (at most ${MAX_INNER_ARRAY})`,
    })
  }
  if (problem?.kind === 'text') {
    // PostgreSQL's text refuses U+0000; UTF-8 cannot hold a lone surrogate (it would become U+FFFD).
    throw new EvotorError(2003, {
      reason: 'incorrect',
      subject: problem.subject,
      value: null,
      message: `Evotor error 2003: ${problem.subject} holds U+0000 or an unpaired surrogate (not storable as text)`,
    })
  }
  return parseIncomingMaybeAsync(def.request, raw, def.source === 'query' ? { rootSubject: 'query' } : {})
}

type ParsedInput = { body: unknown; invalid: readonly EvotorErrorItem[] | undefined }

/** An input that failed validation: on an event route it becomes an `Unknown` event, else the error stands. */
function invalidInput(def: EvotorRouteDefinition, raw: unknown, error: unknown): ParsedInput {
  // Event routes answer 200 only (protocol §5.3): a broken event goes to `unknownEvent`.
  if (!def.event || !isEvotorError(error) || !isPlainObject(raw)) throw error
  const event = { ...shallowFields(raw, error.code === 2001), type: 'Unknown', rawType: raw.type }
  return { body: event, invalid: error.items }
}

/**
 * The validated body; on an event route a body that fails its schema becomes an `Unknown` event.
 * A promise only for a body validated in chunks.
 */
function parseInput(
  def: EvotorRouteDefinition,
  raw: unknown,
  problem: BodyShapeProblem | undefined,
): ParsedInput | Promise<ParsedInput> {
  let body: unknown
  try {
    body = validateInput(def, raw, problem)
  } catch (error) {
    return invalidInput(def, raw, error)
  }
  if (body instanceof Promise) {
    return body.then(
      (value: unknown) => ({ body: value, invalid: undefined }),
      (error: unknown) => invalidInput(def, raw, error),
    )
  }
  return { body, invalid: undefined }
}

/** Hands an `Unknown` event (unknown type or failing its schema) to `unknownEvent`, if there is one. */
async function runUnknownEvent(config: WebhooksConfig, delivery: Delivery): Promise<void> {
  const { context, invalid } = delivery
  const event = context.body as unknown as Record<string, unknown>
  config.logger.warn(
    invalid === undefined
      ? 'evotor-partner: event of an unknown type acknowledged'
      : 'evotor-partner: event that fails its schema acknowledged (event routes answer 200 only)',
    { route: context.route, type: event.rawType, ...(invalid === undefined ? {} : { errors: invalid }) },
  )
  const catchAll = config.handlers.unknownEvent
  if (catchAll === undefined) return
  const common = {
    route: context.route as 'subscriptionEvent' | 'installationEvent',
    userId: context.userId,
    request: context.request,
  }
  await catchAll(
    invalid === undefined
      ? { ...common, reason: 'unknown-type', event: event as UnknownSubscriptionEvent, errors: [] }
      : { ...common, reason: 'invalid', event: { ...event, type: event.rawType }, errors: invalid },
  )
}

/**
 * Runs the route's handler (or `unknownEvent`) under the deadline; `undefined` when there is none. A
 * late handler is reported once the deadline passes and again when it finishes.
 */
async function runHandler(
  config: WebhooksConfig,
  delivery: Delivery,
): Promise<{ value: unknown } | undefined> {
  const { context } = delivery
  const { deadlineMs, logger } = config
  const route = context.route
  const started = Date.now()
  // One shared timer for every delivery's deadline (deadlines.ts), not a Node timer per request.
  const queue = deadlineQueue(deadlineMs)
  const deadline = queue.add(() => {
    logger.warn('evotor-partner: handler is past the deadline; the Evotor cloud gives up after 10 s', {
      route,
      deadlineMs,
    })
  })
  try {
    if (EVOTOR_ROUTES[route].event && isUnknown(context.body)) {
      await runUnknownEvent(config, delivery)
      return { value: undefined }
    }
    const handler = config.handlers[route] as WebhookHandler<RouteName> | undefined
    return handler === undefined ? undefined : { value: await handler(context as never) }
  } finally {
    queue.cancel(deadline)
    const took = Date.now() - started
    if (took > deadlineMs) logger.warn('evotor-partner: handler finished late', { route, ms: took })
  }
}

/** The delivery's idempotency key, as its route's rule says; `undefined` when it has none. */
function keyOf(config: WebhooksConfig, { context }: Delivery): string | undefined {
  if (config.idempotency === undefined) return undefined
  return idempotencyKeyFor(context.route, context.body, {
    ...(context.storeUuid === undefined ? {} : { storeUuid: context.storeUuid }),
    ...(context.userId === undefined ? {} : { userId: context.userId }),
  })
}

/** Runs the handler once per idempotency key: `'done'`/`'in-progress'` when another delivery has it. */
function runOnce(config: WebhooksConfig, delivery: Delivery, key: string | undefined): Promise<RunOutcome> {
  if (config.idempotency === undefined || key === undefined) {
    return runHandler(config, delivery).then(() => 'ran' as const)
  }
  return runIdempotentOutcome(config.idempotency, key, () => runHandler(config, delivery), config.leaseMs)
}

/** The stream and number that order this delivery, when its route is ordered and the body has both. */
function sequenceOf(delivery: Delivery): { stream: string; number: number; id: string } | undefined {
  const { context } = delivery
  const ordering = EVOTOR_ROUTES[context.route].ordering
  const body: unknown = context.body
  if (ordering === undefined || !isPlainObject(body)) return undefined
  const id = body[ordering.stream]
  const number = parseSequenceNumber(body[ordering.sequence])
  if (typeof id !== 'string' || id === '' || number === undefined || number < 1) return undefined
  // Ordering is per user and stream: one user's numbers never pre-empt another's.
  return { stream: userScopedKey(context.userId, id), number, id }
}

/** Runs an ordered delivery in sequence; at or below the last handled number, only if it never ran. */
function runInOrder(config: WebhooksConfig, delivery: Delivery): Promise<RunOutcome | 'deferred'> {
  const key = keyOf(config, delivery)
  delivery.context.idempotencyKey = key
  const sequence = config.sequencer === undefined ? undefined : sequenceOf(delivery)
  if (config.sequencer === undefined || sequence === undefined) return runOnce(config, delivery, key)
  return runSequenced(config, config.sequencer, delivery, key, sequence)
}

/** {@link runInOrder} for a delivery its route orders. */
async function runSequenced(
  config: WebhooksConfig,
  sequencer: NonNullable<WebhooksConfig['sequencer']>,
  delivery: Delivery,
  key: string | undefined,
  sequence: { stream: string; number: number; id: string },
): Promise<RunOutcome | 'deferred'> {
  let inner = 'ran' as RunOutcome
  const sequenced = await sequencer.run(sequence.stream, sequence.number, async () => {
    inner = await runOnce(config, delivery, key)
    // Not acknowledged means not handled: the sequencer must not move past it.
    return inner !== 'in-progress'
  })
  if (sequenced === 'handled') return inner
  if (sequenced === 'deferred') return inner === 'in-progress' ? 'in-progress' : 'deferred'
  if (key === undefined) return 'done'
  // At or below the last handled number: a duplicate (its key is done) or an event whose gap was
  // skipped after gapTimeoutMs. The latter is handled late rather than lost.
  const late = await runOnce(config, delivery, key)
  if (late === 'ran') {
    config.logger.warn(
      'evotor-partner: subscription event handled after a later one (its gap had timed out)',
      {
        route: delivery.context.route,
        subscriptionId: sequence.id,
        sequenceNumber: sequence.number,
      },
    )
  }
  return late
}

/**
 * The revoked-before mark of an uninstall: its `timestamp` (a delayed re-delivery must not revoke
 * the token of a reinstall that came after it, protocol §4.6), but never later than this server's
 * clock (the cloud's clock may be ahead of ours); `now` when the event has no usable timestamp.
 */
function revocationTime(timestamp: unknown, now: number): Date {
  let at = now
  if (typeof timestamp === 'number' || typeof timestamp === 'string') {
    try {
      at = Math.min(parseEvotorInstant(timestamp).getTime(), now)
    } catch {
      // not a usable instant: now
    }
  }
  return new Date(Number.isFinite(at) ? at : now)
}

/**
 * An `ApplicationUninstalled` (as the route table says) revokes its user's tokens, handler or not;
 * `undefined` (no promise) when the delivery revokes nothing.
 */
function revokeIfUninstalled(
  config: WebhooksConfig,
  context: WebhookContext<RouteName>,
): Promise<void> | undefined {
  const rule = (EVOTOR_ROUTES[context.route] as EvotorRouteDefinition).revokesTokens
  const body: unknown = context.body
  const verifier = config.userTokens
  if (rule === undefined || !config.revokeOnUninstall || verifier === undefined) return undefined
  if (!isPlainObject(body) || body.type !== rule.type || typeof context.userId !== 'string') return undefined
  return revoke(verifier, context.userId, body[rule.timestamp])
}

async function revoke(
  verifier: NonNullable<WebhooksConfig['userTokens']>,
  userId: string,
  timestamp: unknown,
): Promise<void> {
  await verifier.revocations?.revokeUser(userId, revocationTime(timestamp, Date.now()))
  verifier.revokeUser(userId)
}

const NOT_IMPLEMENTED = (): EvotorError =>
  new EvotorError(undefined, { status: 501, message: 'Not implemented' })

/** The answer of a route without a handler (the route table's `withoutHandler`), reported once per route. */
function answerUnhandled(config: WebhooksConfig, route: RouteName): WebhookResponse {
  const def: EvotorRouteDefinition = EVOTOR_ROUTES[route]
  if (def.withoutHandler === 'not-implemented') {
    // Every time: each one is an installation that failed.
    config.logger.error(
      `evotor-partner: no handler for ${route} (${def.method} ${def.path}); answered 501: add handlers.${route}, it must return a token`,
      { route },
    )
    return evotorErrorResponse(NOT_IMPLEMENTED())
  }
  if (!config.reported.has(route)) {
    config.reported.add(route)
    config.logger.warn(
      `evotor-partner: no handler for ${route}; answered ${unhandledAnswer(config, route)}`,
      {
        route,
      },
    )
  }
  if (def.withoutHandler === 'acknowledge' && config.unhandled === 'ack') return EMPTY_200
  return evotorErrorResponse(EvotorError.notFound())
}

/** The answer for a validated delivery. */
async function deliver(config: WebhooksConfig, delivery: Delivery): Promise<WebhookResponse> {
  const { context } = delivery
  const def: EvotorRouteDefinition = EVOTOR_ROUTES[context.route]
  const revoking = revokeIfUninstalled(config, context)
  if (revoking !== undefined) await revoking
  if (!hasHandler(config, context.route) && !(def.event && isUnknown(context.body))) {
    return answerUnhandled(config, context.route)
  }
  if (def.kind === 'request') {
    const result = await runHandler(config, delivery)
    if (result === undefined) return evotorErrorResponse(EvotorError.notFound())
    if (def.response === undefined) return EMPTY_200
    return jsonResponse(200, validateOutgoing(def.response, result.value))
  }
  const outcome = await runInOrder(config, delivery)
  return outcome === 'in-progress' || outcome === 'deferred' ? RETRY_LATER() : EMPTY_200
}

function checkStoreUuid(storeUuid: string | undefined): void {
  if (
    storeUuid !== undefined &&
    (storeUuid === '' || storeUuid.length > 256 || /[\0-\x1f\x7f]/.test(storeUuid))
  ) {
    throw EvotorError.incorrect('storeUuid', storeUuid.slice(0, 256))
  }
}

/** The route serving the request's path and method, or the 404/405 answer. */
function match(matcher: RouteMatcher, request: WebhookRequest): RouteMatch | WebhookResponse {
  const candidates = matcher.find(request.path)
  if (candidates.length === 0) return evotorErrorResponse(EvotorError.notFound())
  const method = request.method.toUpperCase()
  const hit = candidates.find((c) => EVOTOR_ROUTES[c.name].method === method)
  if (hit !== undefined) return hit
  const allow = [...new Set(candidates.map((c) => EVOTOR_ROUTES[c.name].method))]
  return evotorErrorResponse(EvotorError.methodNotAllowed(allow))
}

/**
 * Credential, user and body of a request to a route; throws the `EvotorError` that answers it. A
 * promise only when the token must be verified or the body is validated in chunks.
 */
function accept(
  config: WebhooksConfig,
  hit: RouteMatch,
  request: WebhookRequest,
): Delivery | Promise<Delivery> {
  checkStoreUuid(hit.storeUuid)
  const auth = authenticate(config, hit.name, request)
  return auth instanceof Promise ? auth.then((a) => acceptAs(hit, request, a)) : acceptAs(hit, request, auth)
}

/** {@link accept} once the credential is known. */
function acceptAs(
  hit: RouteMatch,
  request: WebhookRequest,
  auth: Authenticated,
): Delivery | Promise<Delivery> {
  const { name, storeUuid } = hit
  const def: EvotorRouteDefinition = EVOTOR_ROUTES[name]
  const { raw, checkText } = rawInput(def, request)
  // Dangerous keys dropped and the shape checked in one walk, before anything reads the body; the
  // query's strings are checked by the same walk.
  const problem = inspectBody(raw, MAX_BODY_DEPTH, MAX_INNER_ARRAY, checkText)
  // One user per request, read from the raw body before anything else (design "Tenancy").
  const userId = requestUser(def.userIds, raw, auth.credential, auth.userId)
  const delivery = ({ body, invalid }: ParsedInput): Delivery => ({
    context: {
      route: name,
      body: body as WebhookBody<RouteName>,
      userId: userId as string,
      storeUuid,
      credential: auth.credential,
      request,
      idempotencyKey: undefined,
    },
    invalid,
  })
  const parsed = parseInput(def, raw, problem)
  return parsed instanceof Promise ? parsed.then(delivery) : delivery(parsed)
}

/** Answers one delivery; never rejects (design "Errors": everything becomes an Evotor answer). */
export async function answerDelivery(
  config: WebhooksConfig,
  matcher: RouteMatcher,
  request: WebhookRequest,
): Promise<WebhookResponse> {
  let route: RouteName | undefined
  try {
    const hit = match(matcher, request)
    if (!('name' in hit)) return hit
    route = hit.name
    const accepted = accept(config, hit, request)
    return await deliver(config, accepted instanceof Promise ? await accepted : accepted)
  } catch (error) {
    if (isEvotorError(error)) return evotorErrorResponse(error)
    config.logger.error('evotor-partner: webhook handler failed', {
      route,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    })
    return evotorErrorResponse(EvotorError.internal())
  }
}
