import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { isEvotorError } from '../../src/core/evotor-error.js'
import {
  formatIssuePath,
  parseIncoming,
  toEvotorValidationError,
  validateOutgoing,
} from '../../src/core/validation.js'
import { SubscriptionEventSchema } from '../../src/protocol/billing.js'
import { ProductsSchema, StoresSchema } from '../../src/protocol/inventory.js'
import {
  UserCreateResponseSchema,
  UserTokenRequestSchema,
  UserVerifyRequestSchema,
} from '../../src/protocol/user.js'

function catchError(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  throw new Error('expected a throw')
}

describe('parseIncoming', () => {
  it('returns the parsed data', () => {
    expect(parseIncoming(StoresSchema, [{ uuid: 'S', name: 'n' }])).toEqual([{ uuid: 'S', name: 'n' }])
  })

  it('a missing required field -> 400/2002 missing, subject = path with indexes', () => {
    const error = catchError(() => parseIncoming(StoresSchema, [{ uuid: 'S', name: 'n' }, { name: 'x' }]))
    expect(isEvotorError(error)).toBe(true)
    if (!isEvotorError(error)) return
    expect(error.status).toBe(400)
    expect(error.toBody()).toEqual({ errors: [{ code: 2002, reason: 'missing', subject: '1.uuid' }] })
  })

  it('a missing field whose schema is a union is "missing" as well', () => {
    const error = catchError(() =>
      parseIncoming(SubscriptionEventSchema, {
        subscriptionId: 's',
        productId: 'p',
        userId: 'u',
        timestamp: '2017-04-20T18:26:37.753+0000',
        sequenceNumber: 'x',
        type: 'SubscriptionCreated',
        planId: 'p',
      }),
    )
    expect(isEvotorError(error) && error.toBody()).toEqual({
      errors: [
        { code: 2003, reason: 'incorrect', subject: 'sequenceNumber', value: 'x' },
        { code: 2002, reason: 'missing', subject: 'trialPeriodDuration' },
      ],
    })
  })

  it('null for a required field is "missing" too (A33)', () => {
    const error = catchError(() => parseIncoming(StoresSchema, [{ uuid: null, name: 'n' }]))
    expect(isEvotorError(error) && error.toBody()).toEqual({
      errors: [{ code: 2002, reason: 'missing', subject: '0.uuid' }],
    })
  })

  it('a wrong value -> 400/2003 incorrect with subject and value', () => {
    const error = catchError(() =>
      parseIncoming(ProductsSchema, [{ uuid: 'p', name: 'n', group: false, price: 'ten' }]),
    )
    expect(isEvotorError(error) && error.toBody()).toEqual({
      errors: [{ code: 2003, reason: 'incorrect', subject: '0.price', value: 'ten' }],
    })
  })

  it('several issues are combined into one envelope', () => {
    const error = catchError(() => parseIncoming(StoresSchema, [{ name: 1 }]))
    expect(isEvotorError(error) && error.toBody()).toEqual({
      errors: [
        { code: 2002, reason: 'missing', subject: '0.uuid' },
        { code: 2003, reason: 'incorrect', subject: '0.name', value: 1 },
      ],
    })
  })

  it('userId and userUuid that differ -> 2003 at userId (A1)', () => {
    const error = catchError(() => parseIncoming(UserVerifyRequestSchema, { userId: 'a', userUuid: 'b' }))
    expect(isEvotorError(error) && error.toBody()).toEqual({
      errors: [{ code: 2003, reason: 'incorrect', subject: 'userId', value: 'a' }],
    })
  })

  it('issues inside an event member keep their field subject', () => {
    const error = catchError(() =>
      parseIncoming(SubscriptionEventSchema, {
        subscriptionId: 's',
        productId: 'p',
        userId: 'u',
        timestamp: 'yesterday',
        sequenceNumber: 1,
        type: 'SubscriptionTerminated',
      }),
    )
    expect(isEvotorError(error) && error.toBody()).toEqual({
      errors: [{ code: 2003, reason: 'incorrect', subject: 'timestamp', value: 'yesterday' }],
    })
  })

  it('a body of the wrong kind -> 2003 at "body"', () => {
    const error = catchError(() => parseIncoming(StoresSchema, { uuid: 'S' }))
    expect(isEvotorError(error) && error.toBody()).toEqual({
      errors: [{ code: 2003, reason: 'incorrect', subject: 'body', value: { uuid: 'S' } }],
    })
    const absent = catchError(() => parseIncoming(StoresSchema, undefined, { rootSubject: 'query' }))
    expect(isEvotorError(absent) && absent.toBody()).toEqual({
      errors: [{ code: 2002, reason: 'missing', subject: 'query' }],
    })
  })

  it('never echoes secrets and truncates long values', () => {
    const secret = catchError(() => parseIncoming(UserVerifyRequestSchema, { userId: 'u', password: 12345 }))
    expect(isEvotorError(secret) && secret.toBody()).toEqual({
      errors: [{ code: 2003, reason: 'incorrect', subject: 'password', value: '[redacted]' }],
    })
    expect(isEvotorError(secret) && secret.message).not.toContain('12345')
    const token = catchError(() =>
      parseIncoming(UserTokenRequestSchema, { userId: 'u', token: ['cloud-secret'] }),
    )
    expect(JSON.stringify(isEvotorError(token) && token.toBody())).not.toContain('cloud-secret')
    const long = catchError(() =>
      parseIncoming(ProductsSchema, [{ uuid: 'p', name: 'n', group: false, price: 'x'.repeat(1000) }]),
    )
    const value = isEvotorError(long) ? long.value : undefined
    expect(typeof value === 'string' && value.length).toBe(256)
  })
})

describe('toEvotorValidationError', () => {
  it('uses options.input when the issues carry no input', () => {
    const data = [{ name: 'n' }, { uuid: 'S', name: 5 }]
    const result = StoresSchema.safeParse(data)
    expect(result.success).toBe(false)
    if (result.success) return
    expect(toEvotorValidationError(result.error, { input: data }).toBody()).toEqual({
      errors: [
        { code: 2002, reason: 'missing', subject: '0.uuid' },
        { code: 2003, reason: 'incorrect', subject: '1.name', value: 5 },
      ],
    })
  })

  it('maps unrecognized keys of a strict schema to 2002 unexpected', () => {
    const result = z.strictObject({ a: z.string() }).safeParse({ a: 'x', b: 1 })
    if (result.success) throw new Error('expected a failure')
    expect(toEvotorValidationError(result.error).toBody()).toEqual({
      errors: [{ code: 2002, reason: 'unexpected', subject: 'b' }],
    })
  })

  it('formats paths with dots and plain indexes', () => {
    expect(formatIssuePath([0, 'transactions', 3, 'sum'])).toBe('0.transactions.3.sum')
    expect(formatIssuePath([])).toBe('body')
  })
})

describe('validateOutgoing', () => {
  it('returns valid data', () => {
    expect(validateOutgoing(UserCreateResponseSchema, { userId: 'u', token: 't' })).toEqual({
      userId: 'u',
      token: 't',
    })
  })

  it('throws a TypeError naming the fields, not an EvotorError, and never the values', () => {
    const error = catchError(() =>
      validateOutgoing(
        UserCreateResponseSchema,
        { userId: 'u', token: 'secret.jwt.value', extra: 1 },
        'userCreate response',
      ),
    )
    expect(error).toBeInstanceOf(TypeError)
    expect(isEvotorError(error)).toBe(false)
    const message = (error as TypeError).message
    expect(message).toMatch(/^Invalid userCreate response: /)
    expect(message).toContain('token')
    expect(message).toContain('extra')
    expect(message).not.toContain('secret.jwt.value')
  })
})
