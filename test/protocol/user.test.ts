import { describe, expect, expectTypeOf, it } from 'vitest'
import {
  PartnerUserTokenSchema,
  UserCreateRequestSchema,
  type UserCreateResponse,
  UserCreateResponseSchema,
  UserTokenRequestSchema,
  type UserVerifyRequest,
  UserVerifyRequestSchema,
  UserVerifyResponseSchema,
} from '../../src/protocol/user.js'

describe('user requests', () => {
  it('keeps portal-defined fields (protocol §6.1)', () => {
    const body = UserCreateRequestSchema.parse({ userId: '01-000000000000001', inn: '7700000000' })
    expect(body).toEqual({ userId: '01-000000000000001', inn: '7700000000' })
  })

  it.each([
    ['create', UserCreateRequestSchema],
    ['verify', UserVerifyRequestSchema],
    ['token', UserTokenRequestSchema],
  ] as const)('%s: accepts the legacy userUuid (A1) without mutating the input', (_, schema) => {
    const input = { userUuid: '01-000000000000001', token: 't' }
    expect(schema.parse(input).userId).toBe('01-000000000000001')
    expect(input).not.toHaveProperty('userId')
  })

  it('accepts userId and userUuid when equal, rejects them when different', () => {
    expect(UserVerifyRequestSchema.safeParse({ userId: 'a', userUuid: 'a' }).success).toBe(true)
    const result = UserVerifyRequestSchema.safeParse({ userId: 'a', userUuid: 'b' })
    expect(result.error?.issues.map((issue) => issue.path)).toEqual([['userId']])
  })

  it('requires userId and the cloud token', () => {
    expect(UserCreateRequestSchema.safeParse({}).success).toBe(false)
    expect(UserTokenRequestSchema.safeParse({ userId: 'a' }).success).toBe(false)
  })

  it('types: the request exposes userId and the optional credentials', () => {
    expectTypeOf<UserVerifyRequest['userId']>().toEqualTypeOf<string>()
    expectTypeOf<UserVerifyRequest['password']>().toEqualTypeOf<string | null | undefined>()
  })
})

describe('user responses are strict', () => {
  it('create: {userId, token}, optionally hasBilling false (A55)', () => {
    expect(UserCreateResponseSchema.safeParse({ userId: 'u', token: 'abc_DEF-123' }).success).toBe(true)
    expect(UserCreateResponseSchema.safeParse({ userId: 'u', token: 'abc', hasBilling: false }).success).toBe(
      true,
    )
    expect(UserCreateResponseSchema.safeParse({ userId: 'u', token: 'abc', hasBilling: true }).success).toBe(
      false,
    )
    expect(UserCreateResponseSchema.safeParse({ userId: 'u', token: 'abc', extra: 1 }).success).toBe(false)
  })

  it('verify: hasBilling must be a real boolean (A23)', () => {
    expect(UserVerifyResponseSchema.safeParse({ userId: 'u', hasBilling: true, token: 'abc' }).success).toBe(
      true,
    )
    expect(
      UserVerifyResponseSchema.safeParse({ userId: 'u', hasBilling: 'False', token: 'abc' }).success,
    ).toBe(false)
    expect(UserVerifyResponseSchema.safeParse({ userId: 'u', token: 'abc' }).success).toBe(false)
  })

  it('tokens: 1-128 characters of [A-Za-z0-9_-] (A7)', () => {
    expect(PartnerUserTokenSchema.safeParse('a'.repeat(128)).success).toBe(true)
    expect(PartnerUserTokenSchema.safeParse('a'.repeat(129)).success).toBe(false)
    expect(PartnerUserTokenSchema.safeParse('').success).toBe(false)
    expect(PartnerUserTokenSchema.safeParse('header.payload.signature').success).toBe(false)
    expect(PartnerUserTokenSchema.safeParse('a=').success).toBe(false)
  })

  it('types: the response a handler returns', () => {
    expectTypeOf<UserCreateResponse>().toEqualTypeOf<{
      userId: string
      token: string
      hasBilling?: false | undefined
    }>()
  })
})
