import { initTRPC, TRPCError } from '@trpc/server'
import { isEvotorApiError } from 'evotor-partner/client'
import { type EvotorTrpcContext, evotorErrorFormatter } from 'evotor-partner/trpc'
import { z } from 'zod'
import type { CloudSync } from './cloud-sync.js'
import type { Repositories } from './repositories/index.js'
import { isStorableText } from './util/text.js'

/** What the procedures see: the verified proxy context plus the app's services. */

/**
 * A non-empty trimmed string that every database stores as it is: no U+0000 (PostgreSQL's text
 * refuses it) and no unpaired surrogate (UTF-8 cannot hold one), as the library refuses in webhooks.
 */
const storableText = (max: number) =>
  z.string().trim().min(1).max(max).refine(isStorableText, {
    message: 'must not hold U+0000 or an unpaired surrogate',
  })

export interface AppTrpcContext extends EvotorTrpcContext {
  repos: Repositories
  now: () => Date
  /** The Evotor cloud sync, when `EVOTOR_CLOUD_URL` is set. */
  cloud?: CloudSync | undefined
}

// An EvotorError thrown in a procedure answers its own status with Evotor's `errors`; a crash answers
// 500 with no message or stack, whatever NODE_ENV says.
const t = initTRPC.context<AppTrpcContext>().create({ errorFormatter: evotorErrorFormatter })

const DAY_MS = 24 * 60 * 60 * 1000

/**
 * The calendar day containing `now` in a time zone `offsetMs` east of UTC, as a UTC range.
 *
 * @example
 * ```ts
 * dayRange(new Date('2024-05-01T22:30:00Z'), 3 * 3600_000) // 2024-05-02 in UTC+3
 * // { date: '2024-05-02', start: 2024-05-01T21:00:00Z, end: 2024-05-02T21:00:00Z }
 * ```
 */
export function dayRange(now: Date, offsetMs: number): { date: string; start: Date; end: Date } {
  const local = now.getTime() + offsetMs
  const startLocal = local - (((local % DAY_MS) + DAY_MS) % DAY_MS)
  const start = new Date(startLocal - offsetMs)
  return {
    date: new Date(startLocal).toISOString().slice(0, 10),
    start,
    end: new Date(start.getTime() + DAY_MS),
  }
}

/** An Evotor cloud failure as a tRPC error: the cloud's fault is 503, a refused token or input 4xx. */
function cloudError(error: unknown): TRPCError {
  if (!isEvotorApiError(error))
    return error instanceof TRPCError ? error : new TRPCError({ code: 'INTERNAL_SERVER_ERROR' })
  if (error.retryable) return new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: error.message })
  if (error.status === 401 || error.status === 403) {
    return new TRPCError({ code: 'PRECONDITION_FAILED', message: error.message })
  }
  return new TRPCError({ code: 'BAD_REQUEST', message: error.message })
}

function requireStore(storeUuid: string | undefined): string {
  if (storeUuid === undefined) {
    throw new TRPCError({ code: 'BAD_REQUEST', message: 'X-Evotor-Store-Uuid is required' })
  }
  return storeUuid
}

/**
 * The terminal-facing API, served under `/trpc` behind the proxy middleware (user token and
 * `X-Evotor-*` already verified, protocol §2 and §3.2).
 *
 * @example
 * ```ts
 * // GET /trpc/whoami            -> {"result":{"data":{"userId":"01-…","storeUuid":"…","deviceUuid":"…"}}}
 * // GET /trpc/store.summary     -> {"result":{"data":{"count":1,"total":"89.90",…}}}
 * // GET /trpc/catalog.lookup?input={"barcode":"4601234567890"}
 * ```
 */
export const appRouter = t.router({
  /** The verified caller: the user from the token, the store and terminal from the cloud's headers. */
  whoami: t.procedure.query(({ ctx }) => ({
    userId: ctx.evotor.userId,
    storeUuid: ctx.evotor.storeUuid ?? null,
    deviceUuid: ctx.evotor.deviceUuid ?? null,
  })),

  store: t.router({
    /**
     * Today's sales of the caller's store: number of receipts and their total, where sales
     * (`SELL`) are added and refunds to buyers (`PAYBACK`) subtracted; purchases from suppliers
     * (`BUY`), their returns (`BUYBACK`) and other types are left out of both. "Today" is the
     * calendar day in the terminal's time zone (`timezoneOffset` of the devices webhook, protocol
     * §6.8), UTC when the terminal is not known yet; receipts are placed by their own `dateTime`.
     */
    summary: t.procedure.query(async ({ ctx }) => {
      const storeUuid = requireStore(ctx.evotor.storeUuid)
      const device =
        ctx.evotor.deviceUuid === undefined
          ? undefined
          : await ctx.repos.inventory.getDevice(ctx.evotor.userId, ctx.evotor.deviceUuid)
      const offsetMs = device?.timezoneOffset ?? 0
      const day = dayRange(ctx.now(), offsetMs)
      // Only the verified user's receipts: another user's receipts in a store with the same id never count.
      const summary = await ctx.repos.receipts.storeSummary(ctx.evotor.userId, storeUuid, day.start, day.end)
      return {
        storeUuid,
        date: day.date,
        timezoneOffsetMinutes: offsetMs / 60_000,
        count: summary.count,
        total: summary.total,
      }
    }),
  }),

  catalog: t.router({
    /** A product of the caller's store by barcode (products webhook, protocol §6.10). */
    lookup: t.procedure.input(z.object({ barcode: storableText(64) })).query(async ({ ctx, input }) => {
      const storeUuid = requireStore(ctx.evotor.storeUuid)
      const product = await ctx.repos.products.findByBarcode(
        { userId: ctx.evotor.userId, storeUuid },
        input.barcode,
      )
      if (product === undefined) {
        throw new TRPCError({ code: 'NOT_FOUND', message: 'no product with this barcode in the store' })
      }
      return {
        uuid: product.uuid,
        name: product.name,
        price: product.price,
        measureName: product.measureName,
        barCodes: product.barCodes,
        type: product.type,
      }
    }),
  }),

  cloud: t.router({
    /**
     * Creates or replaces one product of the caller's store in the Evotor cloud (it reaches the
     * terminal from there) through a bulk write, and reports the bulk task's final status.
     */
    pushProduct: t.procedure
      .input(
        z.object({
          id: storableText(64),
          name: storableText(100),
          price: z.string().regex(/^\d{1,9}(\.\d{1,2})?$/),
          barcodes: z
            .array(z.string().regex(/^\d{8,14}$/))
            .max(20)
            .optional(),
        }),
      )
      .mutation(async ({ ctx, input, signal }) => {
        const storeUuid = requireStore(ctx.evotor.storeUuid)
        if (ctx.cloud === undefined) {
          throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'the Evotor cloud is not configured' })
        }
        if ((await ctx.repos.evotorTokens.get(ctx.evotor.userId)) === undefined) {
          throw new TRPCError({
            code: 'PRECONDITION_FAILED',
            message: 'no Evotor cloud token for this user yet',
          })
        }
        const task = await ctx.cloud
          .pushProduct(
            ctx.evotor.userId,
            storeUuid,
            { ...input, type: 'NORMAL', measure_name: 'шт', allow_to_sell: true },
            signal,
          )
          .catch((error: unknown) => {
            throw cloudError(error)
          })
        return {
          bulkId: task.id,
          status: task.status,
          details: (task.details ?? []).map((d) => ({
            id: d.id ?? null,
            status: d.status ?? null,
            message: d.message ?? null,
          })),
        }
      }),
  }),

  account: t.router({
    /**
     * The caller's installation and subscriptions, as the webhooks left them (the simulator's
     * `--state-path`: a duplicate event must not change this answer).
     */
    state: t.procedure.query(async ({ ctx }) => ({
      userId: ctx.evotor.userId,
      installed: await ctx.repos.installations.isInstalled(ctx.evotor.userId),
      subscriptions: (await ctx.repos.subscriptions.listForUser(ctx.evotor.userId)).map((s) => ({
        subscriptionId: s.subscriptionId,
        state: s.state,
        terminationRequested: s.terminationRequested,
        planId: s.planId,
        deviceNumber: s.deviceNumber,
        nextBillingDate: s.nextBillingDate,
        lastSequenceNumber: s.lastSequenceNumber,
      })),
    })),
  }),
})

/** The router type, for a typed tRPC client in the terminal app. */
export type AppRouter = typeof appRouter
