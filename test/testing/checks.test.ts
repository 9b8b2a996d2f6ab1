import { describe, expect, it } from 'vitest'
import {
  checkUserTokenFormat,
  expectEvotorError,
  expectExact200,
  readProxyAnswer,
} from '../../src/testing/checks.js'
import { type Exchange, excerpt, redactHeaders, resolveUrl } from '../../src/testing/http.js'

function exchange(status: number | undefined, text = '', failure?: string): Exchange {
  let json: unknown
  let isJson = false
  try {
    json = JSON.parse(text)
    isJson = true
  } catch {}
  return {
    request: { method: 'POST', path: '/x', headers: {} },
    response: status === undefined ? undefined : { status, body: text },
    status,
    text,
    json,
    isJson,
    ms: 1,
    failure,
  }
}

describe('expectExact200', () => {
  it('passes only 200', () => {
    expect(expectExact200(exchange(200))).toBeUndefined()
    expect(expectExact200(exchange(204))).toMatch(/^expected exactly HTTP 200, got 204: Evotor confirms/)
    expect(expectExact200(exchange(500))).toBe('expected exactly HTTP 200, got 500')
    expect(expectExact200(exchange(undefined, '', 'no answer within 5 ms (timeout)'))).toBe(
      'no answer within 5 ms (timeout)',
    )
  })
})

describe('checkUserTokenFormat', () => {
  it('accepts up to 128 characters of [A-Za-z0-9_-]', () => {
    expect(checkUserTokenFormat('a'.repeat(128))).toBeUndefined()
    expect(checkUserTokenFormat('Ab0_-')).toBeUndefined()
  })
  it('names the length and the bad characters', () => {
    expect(checkUserTokenFormat('a'.repeat(129))).toBe('token is 129 characters long (max 128)')
    expect(checkUserTokenFormat('eyJ.eyJ.sig')).toBe('token contains characters outside [A-Za-z0-9_-]: .')
    expect(checkUserTokenFormat('')).toBe('token must be a non-empty string')
    expect(checkUserTokenFormat(42)).toBe('token must be a non-empty string')
  })
})

describe('expectEvotorError', () => {
  it('checks status, envelope, integer code and subject', () => {
    const wanted = { status: 400, code: 2002, subject: /userId/ }
    expect(
      expectEvotorError(
        exchange(400, '{"errors":[{"code":2002,"reason":"missing","subject":"userId"}]}'),
        wanted,
      ),
    ).toBeUndefined()
    expect(expectEvotorError(exchange(422, '{}'), wanted)).toBe(
      'expected HTTP 400 with {"errors":[{"code":2002}]}, got HTTP 422',
    )
    expect(expectEvotorError(exchange(400, 'Bad Request'), wanted)).toMatch(/not JSON/)
    expect(expectEvotorError(exchange(400, '{"error":"x"}'), wanted)).toMatch(
      /without a non-empty "errors" array/,
    )
    expect(expectEvotorError(exchange(400, '{"errors":[{"code":"2002"}]}'), wanted)).toMatch(
      /got codes "2002"/,
    )
    expect(expectEvotorError(exchange(400, '{"errors":[{"code":2002}]}'), wanted)).toMatch(/"subject"/)
  })
})

describe('readProxyAnswer', () => {
  it('passes ver. 2 through and unwraps ver. 1', () => {
    expect(readProxyAnswer(exchange(201, '{"a":1}'), 2)).toEqual({ status: 201, body: { a: 1 } })
    expect(readProxyAnswer(exchange(200, '{"status":401,"body":"{\\"a\\":1}"}'), 1)).toEqual({
      status: 401,
      body: { a: 1 },
    })
    expect(readProxyAnswer(exchange(401, '{}'), 1)).toMatch(/must be HTTP 200/)
    expect(readProxyAnswer(exchange(200, '{"ok":true}'), 1)).toMatch(/not a \{"status"/)
  })
})

describe('report redaction', () => {
  it('keeps the scheme of Authorization only and replaces token fields by their length', () => {
    expect(redactHeaders({ Authorization: 'Basic c2VjcmV0', 'x-a': '1' })).toEqual({
      Authorization: 'Basic [REDACTED]',
      'x-a': '1',
    })
    expect(redactHeaders({ authorization: 'bare-token' })).toEqual({ authorization: '[REDACTED]' })
    expect(excerpt('{"userId":"1","token":"abcdef","nested":[{"password":"pw"}]}')).toBe(
      '{"userId":"1","token":"[REDACTED 6 chars]","nested":[{"password":"[REDACTED 2 chars]"}]}',
    )
    expect(excerpt('x'.repeat(700))).toMatch(/… \(700 chars\)$/)
  })

  it('keeps a path prefix of the base URL', () => {
    expect(resolveUrl(new URL('http://h:1/evotor/'), '/api/v1/user/create?x=1').toString()).toBe(
      'http://h:1/evotor/api/v1/user/create?x=1',
    )
  })
})
