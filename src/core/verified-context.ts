/**
 * The proxy's verified contexts are instances of one class whose prototype carries a registered
 * symbol, so a context can be told from a look-alike object without storing anything per request:
 * Express's `req.evotor` is then enough for `getEvotorContext(req)`, and the request gets one new
 * property instead of two (each property added to Express's `req` costs a map migration in V8).
 * The symbol is on the prototype: own keys, `toEqual`, JSON and spread copies see plain data, and a
 * copy made with `{ ...context }` is not a verified context. A registered symbol, so the ESM and the
 * CJS build recognise each other's contexts.
 */
import type { VerifiedUserToken } from './auth/user-token-verifier.js'

const VERIFIED = Symbol.for('evotor-partner.verifiedContext')

/** A context the proxy verified (see the module comment). */
export class VerifiedContext {
  declare readonly [VERIFIED]: true
  constructor(
    readonly userId: string,
    readonly storeUuid: string | undefined,
    readonly deviceUuid: string | undefined,
    readonly token: VerifiedUserToken,
  ) {}
}
Object.defineProperty(VerifiedContext.prototype, VERIFIED, { value: true })

/** Whether `value` is a context the proxy verified (by this build of the library or another). */
export function isVerifiedContext(value: unknown): value is VerifiedContext {
  return typeof value === 'object' && value !== null && (value as { [VERIFIED]?: unknown })[VERIFIED] === true
}
