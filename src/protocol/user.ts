/**
 * Schemas of the user webhooks (protocol §6.1–6.3): `user/create`, `user/verify`, `user/token`.
 * Requests are lenient (legacy `userUuid` accepted, §11 A1); responses are strict (§11 A23, A55).
 */
import { z } from 'zod'
import { EvotorIdSchema } from './ids.js'

/**
 * Copies the legacy `userUuid` into `userId` when `userId` is absent (protocol §11 A1); when both
 * are present and differ, reports a 2003 issue at `userId`. Never mutates the input.
 */
function withUserIdAlias<S extends z.ZodType>(schema: S) {
  return z.preprocess((input, ctx) => {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) return input
    const record = input as Record<string, unknown>
    const legacy = record.userUuid
    if (legacy === undefined || legacy === null) return input
    const userId = record.userId
    if (userId === undefined || userId === null) return { ...record, userId: legacy }
    if (userId !== legacy) {
      ctx.issues.push({
        code: 'custom',
        path: ['userId'],
        input: userId,
        message: 'userId and the legacy userUuid differ',
      })
    }
    return input
  }, schema)
}

/**
 * Body of `POST /api/v1/user/create` (protocol §6.1, `registerFormData`): `userId` plus any
 * portal-defined registration fields, which are kept as unknown keys.
 *
 * @example
 * ```ts
 * const body = UserCreateRequestSchema.parse({ userUuid: '01-000000000000001', inn: '7700000000' })
 * body.userId // '01-000000000000001'
 * ```
 */
export const UserCreateRequestSchema = withUserIdAlias(z.looseObject({ userId: EvotorIdSchema }))

/**
 * What a `userCreate` handler receives.
 *
 * @example
 * ```ts
 * const handler = async (body: UserCreateRequest) => body.userId
 * ```
 */
export type UserCreateRequest = z.output<typeof UserCreateRequestSchema>

/** The token alphabet that fits the documented `Authorization` grammar (protocol §4.3, §11 A7). */
const USER_TOKEN = /^[A-Za-z0-9_-]{1,128}$/

/**
 * Schema of a partner user token as emitted: 1–128 characters of `[A-Za-z0-9_-]`.
 *
 * @example
 * ```ts
 * PartnerUserTokenSchema.safeParse('a.b.c').success // false: a JWT does not fit the grammar
 * ```
 */
export const PartnerUserTokenSchema = z
  .string()
  .regex(USER_TOKEN, 'token must be 1-128 characters of [A-Za-z0-9_-]')

/**
 * 200 body of `user/create` (protocol §6.1), strict: `{ userId, token }`, plus the optional
 * `hasBilling: false` some pages document (§11 A55).
 *
 * @example
 * ```ts
 * UserCreateResponseSchema.parse({ userId: '01-000000000000001', token: 'toaWaep4chou7ahkoogiu9Iusaht9ima' })
 * ```
 */
export const UserCreateResponseSchema = z.strictObject({
  userId: EvotorIdSchema,
  token: PartnerUserTokenSchema,
  hasBilling: z.literal(false).optional(),
})

/**
 * What a `userCreate` handler must return.
 *
 * @example
 * ```ts
 * const answer: UserCreateResponse = { userId: body.userId, token: await tokens.issue(body.userId) }
 * ```
 */
export type UserCreateResponse = z.input<typeof UserCreateResponseSchema>

/**
 * Body of `POST /api/v1/user/verify` (protocol §6.2, `authorizeFormData`): `userId`, optional
 * `username`/`password`, and portal-defined fields kept as unknown keys.
 *
 * @example
 * ```ts
 * const { userId, username, password } = UserVerifyRequestSchema.parse(body)
 * ```
 */
export const UserVerifyRequestSchema = withUserIdAlias(
  z.looseObject({
    userId: EvotorIdSchema,
    username: z.string().nullish(),
    password: z.string().nullish(),
  }),
)

/**
 * What a `userVerify` handler receives.
 *
 * @example
 * ```ts
 * const login = (body: UserVerifyRequest) => accounts.check(body.username, body.password)
 * ```
 */
export type UserVerifyRequest = z.output<typeof UserVerifyRequestSchema>

/**
 * 200 body of `user/verify` (protocol §6.2), strict: `{ userId, hasBilling, token }` with a real
 * boolean `hasBilling` (§11 A23).
 *
 * @example
 * ```ts
 * UserVerifyResponseSchema.parse({ userId: '01-000000000000001', hasBilling: false, token: 'abc' })
 * ```
 */
export const UserVerifyResponseSchema = z.strictObject({
  userId: EvotorIdSchema,
  hasBilling: z.boolean(),
  token: PartnerUserTokenSchema,
})

/**
 * What a `userVerify` handler must return.
 *
 * @example
 * ```ts
 * const answer: UserVerifyResponse = { userId, hasBilling: false, token }
 * ```
 */
export type UserVerifyResponse = z.input<typeof UserVerifyResponseSchema>

/**
 * Body of `POST /api/v1/user/token` (protocol §6.3): the Evotor cloud token for `X-Authorization`
 * REST calls on behalf of `userId`. The answer is an empty 200.
 *
 * @example
 * ```ts
 * const { userId, token } = UserTokenRequestSchema.parse(body)
 * ```
 */
export const UserTokenRequestSchema = withUserIdAlias(
  z.looseObject({
    userId: EvotorIdSchema,
    token: z.string().min(1),
  }),
)

/**
 * What a `userToken` handler receives.
 *
 * @example
 * ```ts
 * const save = (body: UserTokenRequest) => cloudTokens.set(body.userId, body.token)
 * ```
 */
export type UserTokenRequest = z.output<typeof UserTokenRequestSchema>
