import { describe, expect, it } from 'vitest'
import { isEvotorError } from '../../src/core/evotor-error.js'
import { inspectBody, parseJsonBody, parseRawJsonBody } from '../../src/core/safe-json.js'

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
    expect(inspectBody(parsed)).toBeUndefined()
    expect(Object.keys(parsed)).toEqual(['ok'])
  })
})

describe('inspectBody', () => {
  const nested = (depth: number): unknown => {
    let value: unknown = 1
    for (let i = 0; i < depth; i++) value = { a: value }
    return value
  }

  it('passes a body within the limits, unchanged but for the dangerous keys', () => {
    const body = parseRawJsonBody(
      '[{"id":"a","items":[{"x":1}],"constructor":1},{"prototype":{"y":2},"z":null}]',
    )
    expect(inspectBody(body)).toBeUndefined()
    expect(body).toEqual([{ id: 'a', items: [{ x: 1 }] }, { z: null }])
    expect(inspectBody(nested(4), 5)).toBeUndefined()
    expect(inspectBody('text')).toBeUndefined()
  })

  it('finds nesting deeper than the limit', () => {
    expect(inspectBody(nested(6), 5)).toEqual({ kind: 'depth' })
    // Arrays count as levels too; the default limit is 64.
    expect(inspectBody(JSON.parse(`${'['.repeat(65)}${']'.repeat(65)}`))).toEqual({ kind: 'depth' })
    expect(inspectBody(JSON.parse(`${'['.repeat(64)}${']'.repeat(64)}`))).toBeUndefined()
  })

  it('finds an inner array longer than the limit, with its path; the body itself may be longer', () => {
    expect(inspectBody({ data: { items: [1, 2, 3, 4] } }, 64, 3)).toEqual({
      kind: 'array',
      subject: 'data.items',
      length: 4,
    })
    expect(inspectBody([{ a: [1] }, { b: [1, 2, 3, 4] }], 64, 3)).toEqual({
      kind: 'array',
      subject: '1.b',
      length: 4,
    })
    expect(inspectBody([1, 2, 3, 4], 64, 3)).toBeUndefined()
  })

  it('walks own keys only: an enumerable object on Object.prototype is neither followed nor changed', () => {
    const shared = { constructor: 'kept', deep: {} }
    // What a legacy library or a polluted app does: a plain, enumerable, writable property.
    ;(Object.prototype as Record<string, unknown>).injected = shared
    try {
      const body = parseRawJsonBody('{"a":{"b":[{"c":1}]},"__proto__":{"x":1}}') as Record<string, unknown>
      // Before: `injected` reached itself through its own prototype, and the walk never ended.
      expect(inspectBody(body, 4)).toBeUndefined()
      expect(Object.keys(body)).toEqual(['a'])
      expect(Object.hasOwn(shared, 'constructor')).toBe(true)
    } finally {
      delete (Object.prototype as Record<string, unknown>).injected
    }
  })

  it('walks own keys only on objects of other prototypes too; null-prototype objects are walked whole', () => {
    // A framework parser's object whose prototype has an enumerable object: not the body's.
    const base = { inherited: { deep: {} } }
    const body = Object.assign(Object.create(base) as Record<string, unknown>, { own: 1 })
    expect(inspectBody(body, 2)).toBeUndefined()
    expect(inspectBody({ own: { deep: {} } }, 2)).toEqual({ kind: 'depth' })
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, {
      a: { b: {} },
      ['__proto__']: 1,
    })
    expect(inspectBody(bare, 2)).toEqual({ kind: 'depth' })
    expect(Object.keys(bare)).toEqual(['a'])
  })

  it('still drops every dangerous key of a body with a problem (it may reach an unknownEvent handler)', () => {
    const body = parseRawJsonBody(
      '{"items":[1,2,3,4],"before":{"__proto__":{"p":1}},"after":[{"constructor":{"prototype":1}}]}',
    ) as Record<string, unknown>
    expect(inspectBody(body, 64, 3)).toEqual({ kind: 'array', subject: 'items', length: 4 })
    expect(body.before).toEqual({})
    expect(body.after).toEqual([{}])
    expect(Object.hasOwn(body.before as object, '__proto__')).toBe(false)
  })
})
