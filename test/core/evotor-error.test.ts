import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { EvotorError, isEvotorError } from '../../src/core/evotor-error.js'
import { EVOTOR_ERROR_CODES, isEvotorErrorCode } from '../../src/protocol/errors.js'

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../fixtures/docs/${name}`, import.meta.url), 'utf8'))

describe('EvotorError reproduces every documented error fixture', () => {
  const cases: Array<[file: string, status: number, make: () => EvotorError]> = [
    ['error-400-2001.json', 400, () => EvotorError.syntax()],
    [
      'error-400-2002.json',
      400,
      () => EvotorError.combine([EvotorError.missing('deviceUuid'), EvotorError.unexpected('deviceUuid')]),
    ],
    ['error-400-2003.json', 400, () => EvotorError.incorrect('deviceUuid', 'null')],
    ['error-401-1001.json', 401, () => EvotorError.invalidAppCredential()],
    ['error-401-1002.json', 401, () => EvotorError.invalidUserToken()],
    ['error-401-1003.json', 401, () => EvotorError.userTokenExpired()],
    ['error-401-1006.json', 401, () => EvotorError.wrongCredentials()],
    ['error-402-1004.json', 402, () => EvotorError.paymentRequired('01-000000000015463')],
    ['error-404-empty.json', 404, () => EvotorError.notFound()],
    ['error-405-1005.json', 405, () => EvotorError.deviceNotLicensed('93a9bfa3-7353-490d-aa54-8c6efe9d8a8f')],
    ['error-405-1007.json', 405, () => EvotorError.licenseOverhead('93a9bfa3-7353-490d-aa54-8c6efe9d8a8f')],
    ['error-409-2004.json', 409, () => EvotorError.alreadyLinked()],
    ['error-409-2005.json', 409, () => EvotorError.accountExists()],
  ]
  it.each(cases)('%s', (file, status, make) => {
    const error = make()
    expect(error.status).toBe(status)
    expect(error.toBody()).toEqual(fixture(file))
    expect(JSON.parse(JSON.stringify(error))).toEqual(fixture(file))
  })

  it('covers every code of the table', () => {
    const produced = new Set(cases.map(([, , make]) => make().code).filter((c) => c !== undefined))
    for (const code of Object.keys(EVOTOR_ERROR_CODES)) expect(produced.has(Number(code))).toBe(true)
  })
})

describe('EvotorError', () => {
  it('takes status and default reason from the code table', () => {
    for (const [code, info] of Object.entries(EVOTOR_ERROR_CODES)) {
      const error = new EvotorError(Number(code))
      expect(error.status).toBe(info.status)
      expect(error.reason).toBe(info.reason)
      expect(error.expose).toBe(true)
      expect(error.message).toContain(code)
    }
  })

  it('renders 2003 with a JSON null value when the value is absent (protocol §11 A26)', () => {
    expect(EvotorError.incorrect('storeUuid').toBody()).toEqual({
      errors: [{ code: 2003, reason: 'incorrect', subject: 'storeUuid', value: null }],
    })
  })

  it('carries headers for 401 and 405', () => {
    expect(EvotorError.methodNotAllowed(['POST', 'PUT']).headers).toEqual({ allow: 'POST, PUT' })
    expect(EvotorError.methodNotAllowed(['POST']).toBody()).toEqual({})
    expect(EvotorError.invalidUserToken().headers['www-authenticate']).toBe('Bearer')
  })

  it('hides internals of 500s', () => {
    const error = EvotorError.internal(new Error('db password is hunter2'))
    expect(error.status).toBe(500)
    expect(error.expose).toBe(false)
    expect(JSON.stringify(error.toBody())).not.toContain('hunter2')
    expect(error.message).not.toContain('hunter2')
  })

  it('combine() refuses an empty list', () => {
    expect(() => EvotorError.combine([])).toThrow(TypeError)
  })

  it('is recognised by isEvotorError, also as a foreign copy with the brand', () => {
    expect(isEvotorError(EvotorError.syntax())).toBe(true)
    expect(isEvotorError(new Error('x'))).toBe(false)
    expect(isEvotorError({ code: 2001 })).toBe(false)
    expect(isEvotorError(null)).toBe(false)
    const foreign = Object.defineProperty({}, Symbol.for('evotor-partner.EvotorError'), { value: true })
    expect(isEvotorError(foreign)).toBe(true)
  })

  it('isEvotorErrorCode knows exactly the documented codes', () => {
    expect(isEvotorErrorCode(1004)).toBe(true)
    expect(isEvotorErrorCode(1000)).toBe(false)
    expect(isEvotorErrorCode('1004')).toBe(false)
  })
})
