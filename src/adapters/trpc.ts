import type { TRPCRootObject, TRPCRuntimeConfigOptions } from '@trpc/server'
import type { EvotorTrpcContext } from '../core/evotor-context.js'
import { EvotorError } from '../core/evotor-error.js'
import type { EvotorProxyContext } from '../core/proxy.js'

export type { EvotorTrpcContext } from '../core/evotor-context.js'
export { createEvotorTrpcContext, getEvotorContext, requireEvotorContext } from '../core/evotor-context.js'
export { EvotorError, isEvotorError } from '../core/evotor-error.js'
export { type EvotorTrpcErrorShape, evotorErrorFormatter } from './trpc-errors.js'

/**
 * The proxy context of {@link evotorProcedure}: the store and the terminal are there.
 * @example `const where = (evotor: EvotorTerminalContext) => ({ userId: evotor.userId, storeUuid: evotor.storeUuid })`
 */
export interface EvotorTerminalContext extends EvotorProxyContext {
  storeUuid: string
  deviceUuid: string
}

/**
 * A tRPC procedure builder for terminal calls: `ctx.evotor` is typed with `userId`, `storeUuid` and
 * `deviceUuid` all present; a call without `X-Evotor-Store-Uuid` or `X-Evotor-Device-UUID` answers
 * 400/2002 before the procedure runs (a call that did not pass the proxy middleware never gets a context).
 * @param t - what `initTRPC.context<EvotorTrpcContext>().create()` returns.
 * @returns `t.procedure` with the narrowed context.
 * @example
 * ```ts
 * const t = initTRPC.context<EvotorTrpcContext>().create({ errorFormatter: evotorErrorFormatter })
 * const router = t.router({ me: evotorProcedure(t).query(({ ctx }) => ctx.evotor.storeUuid) }) // string
 * ```
 */
export function evotorProcedure<
  TContext extends EvotorTrpcContext,
  TMeta extends object,
  TOptions extends TRPCRuntimeConfigOptions<TContext, TMeta>,
>(t: TRPCRootObject<TContext, TMeta, TOptions>) {
  return t.procedure.use(({ ctx, next }) => {
    const { storeUuid, deviceUuid } = ctx.evotor
    if (storeUuid === undefined) throw EvotorError.missing('X-Evotor-Store-Uuid')
    if (deviceUuid === undefined) throw EvotorError.missing('X-Evotor-Device-UUID')
    const evotor: EvotorTerminalContext = { ...ctx.evotor, storeUuid, deviceUuid }
    return next({ ctx: { evotor } })
  })
}
