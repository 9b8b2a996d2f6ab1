import { initTRPC, TRPCError } from '@trpc/server'
import type { EvotorTrpcContext } from 'evotor-partner'
import { z } from 'zod'
import type { Repositories } from './repositories/index.js'

/** What the procedures see: the verified proxy context plus the app's services. */
export interface AppTrpcContext extends EvotorTrpcContext {
  repos: Repositories
  now: () => Date
}

const t = initTRPC.context<AppTrpcContext>().create()

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
    lookup: t.procedure
      .input(z.object({ barcode: z.string().trim().min(1).max(64) }))
      .query(async ({ ctx, input }) => {
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
