import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fromProxyV1, proxyV1Text, serializeProxyV1, toProxyV1 } from '../../src/core/proxy-envelope.js'

describe('toProxyV1 (protocol §7.4)', () => {
  it('serialises the inner payload to a string by default', () => {
    expect(toProxyV1({ status: 201, body: { a: 1 } })).toEqual({ status: 201, body: '{"a":1}' })
    expect(toProxyV1({ status: 200, body: 'plain text', contentType: 'text/plain' })).toEqual({
      status: 200,
      body: 'plain text',
    })
    expect(toProxyV1({ status: 204 })).toEqual({ status: 204, body: '' })
    expect(toProxyV1({ status: 200, body: new TextEncoder().encode('байты') })).toEqual({
      status: 200,
      body: 'байты',
    })
  })

  it('keeps JSON values with bodyEncoding json', () => {
    const json = { bodyEncoding: 'json' } as const
    expect(toProxyV1({ status: 404, body: { e: 1 } }, json)).toEqual({ status: 404, body: { e: 1 } })
    expect(
      toProxyV1({ status: 200, body: '{"x":[1]}', contentType: 'application/json; charset=utf-8' }, json),
    ).toEqual({ status: 200, body: { x: [1] } })
    expect(toProxyV1({ status: 200, body: '{not json', contentType: 'application/json' }, json)).toEqual({
      status: 200,
      body: '{not json',
    })
    expect(toProxyV1({ status: 500, body: '<h1>oops</h1>', contentType: 'text/html' }, json)).toEqual({
      status: 500,
      body: '<h1>oops</h1>',
    })
    expect(toProxyV1({ status: 200 }, json)).toEqual({ status: 200, body: null })
  })

  it('rejects bad statuses and encodings', () => {
    expect(() => toProxyV1({ status: 99 })).toThrow(TypeError)
    expect(() => toProxyV1({ status: 200.5 })).toThrow(TypeError)
    // @ts-expect-error: not an encoding
    expect(() => toProxyV1({ status: 200 }, { bodyEncoding: 'base64' })).toThrow(/bodyEncoding/)
  })
})

describe('fromProxyV1', () => {
  it('round-trips both encodings', () => {
    for (const bodyEncoding of ['string', 'json'] as const) {
      const text = serializeProxyV1(toProxyV1({ status: 418, body: { tea: 'чай' } }, { bodyEncoding }))
      expect(fromProxyV1(text, { parseJson: true })).toEqual({ status: 418, body: { tea: 'чай' } })
    }
  })

  it('keeps string bodies unless asked to parse them', () => {
    expect(fromProxyV1({ status: 200, body: '{"a":1}' })).toEqual({ status: 200, body: '{"a":1}' })
    expect(fromProxyV1({ status: 200, body: 'text' }, { parseJson: true })).toEqual({
      status: 200,
      body: 'text',
    })
  })

  it('refuses what is not an envelope', () => {
    expect(() => fromProxyV1('not json')).toThrow(TypeError)
    expect(() => fromProxyV1('[1,2]')).toThrow(/envelope/)
    expect(() => fromProxyV1({ status: '200', body: '' })).toThrow(/status/)
  })
})

describe('proxyV1Text', () => {
  const body = fc.oneof(
    fc.constant(undefined),
    fc.constant(null),
    fc.string(),
    fc.string({ unit: 'grapheme' }),
    fc.jsonValue(),
    fc.uint8Array().map((bytes) => Buffer.from(bytes)),
    fc.string().map((text) => new TextEncoder().encode(text).buffer),
  )
  const inner = fc.record({
    status: fc.integer({ min: 100, max: 599 }),
    body,
    contentType: fc.constantFrom(undefined, 'application/json', 'text/plain'),
  })

  it('is serializeProxyV1(toProxyV1(...)) for both encodings, byte for byte', () => {
    fc.assert(
      fc.property(inner, fc.constantFrom('string' as const, 'json' as const), (value, bodyEncoding) => {
        expect(proxyV1Text(value, bodyEncoding)).toBe(serializeProxyV1(toProxyV1(value, { bodyEncoding })))
      }),
    )
  })

  it('rejects a bad status like toProxyV1', () => {
    expect(() => proxyV1Text({ status: 99, body: 'x' }, 'string')).toThrow(TypeError)
    expect(() => proxyV1Text({ status: 200.5 }, 'json')).toThrow(TypeError)
  })
})
