import { describe, expect, it } from 'vitest'
import { isEvotorError } from '../../src/core/evotor-error.js'
import { parseJsonBody, sanitizeParsedBody } from '../../src/core/safe-json.js'

describe('parseJsonBody', () => {
  it('parses UTF-8 bytes and text', () => {
    expect(parseJsonBody(new TextEncoder().encode('{"name":"Магазин"}'))).toEqual({ name: 'Магазин' })
    expect(parseJsonBody('[1,2]')).toEqual([1, 2])
  })

  it('answers 2001 for empty, invalid JSON and invalid UTF-8', () => {
    for (const raw of ['', '  ', '{"a":', new Uint8Array([0x7b, 0xff, 0x7d])]) {
      try {
        parseJsonBody(raw)
        expect.unreachable()
      } catch (error) {
        expect(isEvotorError(error) && error.code).toBe(2001)
      }
    }
  })

  it('reads bytes as a fatal TextDecoder does: Buffer or a view, a leading BOM dropped, bad UTF-8 refused', () => {
    const json = '{"name":"Магазин"}'
    const bytes = new TextEncoder().encode(json)
    expect(parseJsonBody(Buffer.from(json))).toEqual({ name: 'Магазин' })
    // A view into a larger buffer: only its own bytes are read.
    const framed = new Uint8Array(bytes.length + 4)
    framed.set(bytes, 2)
    expect(parseJsonBody(framed.subarray(2, 2 + bytes.length))).toEqual({ name: 'Магазин' })
    expect(parseJsonBody(new Uint8Array([0xef, 0xbb, 0xbf, ...bytes]))).toEqual({ name: 'Магазин' })
    // Overlong '{', a lone surrogate (ED A0 80), a truncated sequence: all 2001.
    for (const bad of [
      [0xc0, 0xbb],
      [0x22, 0xed, 0xa0, 0x80, 0x22],
      [0x22, 0xd0],
    ]) {
      expect(() => parseJsonBody(new Uint8Array(bad))).toThrow(expect.objectContaining({ code: 2001 }))
    }
  })

  it('drops prototype-polluting keys, also when spelled with \\u escapes', () => {
    const body = parseJsonBody(
      '{"a":1,"__proto__":{"x":1},"\\u005f_proto__":{"isAdmin":true},"nested":[{"constructor":{"prototype":{}}}]}',
    ) as Record<string, unknown>
    expect(Object.keys(body)).toEqual(['a', 'nested'])
    expect(Object.hasOwn(body, '__proto__')).toBe(false)
    expect((Object.assign({}, body) as { isAdmin?: boolean }).isAdmin).toBeUndefined()
    expect(body.nested).toEqual([{}])
  })

  it('sanitises bodies parsed by a framework too', () => {
    const parsed = JSON.parse('{"ok":true,"__proto__":{"polluted":1}}')
    expect(Object.keys(sanitizeParsedBody(parsed) as object)).toEqual(['ok'])
  })
})
