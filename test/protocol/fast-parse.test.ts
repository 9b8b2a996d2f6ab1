import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import {
  fastReceipts,
  ReceiptDataSchema,
  ReceiptEventV2Schema,
  ReceiptItemSchema,
  ReceiptsV2Schema,
} from '../../src/protocol/documents.js'
import { copyUnknownKeys, FAIL, plainRecordCopy, schemaKeys } from '../../src/protocol/fast-parse.js'

type Json = Record<string, unknown>

const fixture = JSON.parse(
  readFileSync(
    new URL('../fixtures/assembled/partner_v2_receipts.POST.request.json', import.meta.url),
    'utf8',
  ),
) as Json

/** What zod alone makes of `input` (the slow path of ReceiptsV2Schema), or `undefined` when it fails. */
function zodReceipts(input: unknown): unknown[] | undefined {
  const result = Array.isArray(input)
    ? z.array(ReceiptEventV2Schema).safeParse(input)
    : ReceiptEventV2Schema.safeParse(input)
  if (!result.success) return undefined
  return Array.isArray(result.data) ? result.data : [result.data]
}

/** Every key of every object, in order, with its path: what `toStrictEqual` does not compare. */
function keyOrder(value: unknown, path = ''): string[] {
  if (typeof value !== 'object' || value === null) return []
  return Object.keys(value).flatMap((key) => [
    `${path}${key}`,
    ...keyOrder((value as Json)[key], `${path}${key}.`),
  ])
}

/** Asserts that the fast path either declines or gives exactly zod's output; returns whether it answered. */
function agrees(input: unknown): boolean {
  const fast = fastReceipts(input)
  const slow = zodReceipts(input)
  if (fast === undefined) return false
  expect(slow, JSON.stringify(input)).toBeDefined()
  expect(fast).toStrictEqual(slow)
  expect(keyOrder(fast)).toEqual(keyOrder(slow))
  // A copy, as zod makes: the handler never shares objects with the parsed body.
  if (!Array.isArray(input)) expect(fast[0]).not.toBe(input)
  return true
}

const VALUES: readonly unknown[] = [
  undefined,
  null,
  '',
  'x',
  'x'.repeat(129),
  '12.5',
  '-0.5e3',
  '1e400',
  'abc',
  '1496826444000001',
  '2017-06-07T12:55:18Z',
  '2017-02-30T12:55:18Z',
  '2017-01-10T09:33:19.757+0000',
  0,
  -1.5,
  123.12,
  2 ** 60,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  true,
  false,
  {},
  { a: 1 },
  [],
  [1],
]

const item = (fixture.data as Json).items as Json[]

/** The fixture with `value` at `path` (`undefined` removes the key). */
function withValue(path: readonly (string | number)[], value: unknown): Json {
  const copy = structuredClone(fixture)
  let node: Json = copy
  for (const key of path.slice(0, -1)) node = node[key] as Json
  const last = path[path.length - 1] as string
  if (value === undefined) delete node[last]
  else node[last] = value
  return copy
}

describe('receipts fast path', () => {
  it('answers for the documented receipt, a bare one and arrays, with zod output', () => {
    expect(agrees(fixture)).toBe(true)
    expect(agrees({ id: 'e', data: { id: 'r' } })).toBe(true)
    expect(agrees([fixture, { ...fixture, id: 'e2' }])).toBe(true)
    expect(agrees([])).toBe(true)
    expect(fastReceipts(fixture)?.[0]?.data.items?.[0]).not.toBe(item[0])
  })

  it('keeps unknown keys after the schema keys, in input order, at every level', () => {
    const reordered = {
      zeta: 1,
      data: { extras: { b: 1, a: [2] }, alpha: { deep: true }, id: 'r', items: [{ extra: 1, price: '1' }] },
      id: 'e',
      alpha: null,
    }
    expect(agrees(reordered)).toBe(true)
    expect(Object.keys(fastReceipts(reordered)?.[0] ?? {})).toEqual(['id', 'data', 'zeta', 'alpha'])
  })

  it('any key order, keys left out and unknown keys anywhere: the same output and key order as zod', () => {
    const data = fixture.data as Json
    const item = (data.items as Json[])[0] as Json
    // An object with some of `base`'s keys (in a shuffled order) and unknown keys mixed in.
    const variant = (base: Json) =>
      fc
        .tuple(
          fc.shuffledSubarray(Object.keys(base)),
          fc.array(fc.constantFrom('extra', 'zeta', 'Id', 'items2', 'constructorX', 'price_'), {
            maxLength: 3,
          }),
          fc.array(fc.nat(), { minLength: 3, maxLength: 3 }),
        )
        .map(([keys, extras, at]) => {
          const all: string[] = [...keys]
          extras.forEach((extra, i) => {
            if (!all.includes(extra)) all.splice((at[i] ?? 0) % (all.length + 1), 0, extra)
          })
          return Object.fromEntries(all.map((k) => [k, k in base ? base[k] : `unknown-${k}`]))
        })
    fc.assert(
      fc.property(variant(fixture), variant(data), variant(item), (event, d, i) => {
        const input = { ...event, data: { ...d, id: 'r', items: [i, item] }, id: 'e' }
        agrees(input)
      }),
      { numRuns: 300 },
    )
  })

  it('every value at every field: declines or agrees with zod, and declines whatever zod refuses', () => {
    const paths: (string | number)[][] = [
      ...Object.keys(ReceiptEventV2Schema.shape).map((key) => [key]),
      ...Object.keys(ReceiptDataSchema.shape).map((key) => ['data', key]),
      ...Object.keys(ReceiptItemSchema.shape).map((key) => ['data', 'items', 0, key]),
      ['data', 'extras', 'any'],
      ['unknownField'],
      ['data', 'items', 1],
    ]
    let answered = 0
    let refused = 0
    for (const path of paths) {
      for (const value of VALUES) {
        const input = withValue(path, value)
        for (const body of [input, [input], [fixture, input]]) {
          if (agrees(body)) answered++
          else if (zodReceipts(body) === undefined) refused++
        }
      }
    }
    // Both branches are exercised: most variants pass, and the failing ones are left to zod.
    expect(answered).toBeGreaterThan(1000)
    expect(refused).toBeGreaterThan(300)
  })

  it('leaves unusual objects to zod', () => {
    const nullProto = Object.assign(Object.create(null) as Json, { a: 1 })
    expect(plainRecordCopy(nullProto)).toBe(FAIL)
    expect(plainRecordCopy({ [Symbol('s')]: 1 })).toBe(FAIL)
    expect(plainRecordCopy(JSON.parse('{"constructor":1}'))).toBe(FAIL)
    expect(agrees(withValue(['data', 'extras'], nullProto))).toBe(false)
    expect(agrees(Object.assign(Object.create({ inherited: 1 }) as Json, fixture))).toBe(true)
  })

  it('ReceiptsV2Schema gives the same answers with and without it', () => {
    expect(ReceiptsV2Schema.parse(fixture)).toStrictEqual(zodReceipts(fixture))
    const bad = withValue(['data', 'items', 0, 'price'], 'abc')
    expect(ReceiptsV2Schema.safeParse(bad).error?.issues[0]?.path).toEqual(['data', 'items', 0, 'price'])
  })

  it("refuses a key list that is not the schema's, in order", () => {
    const schema = z.looseObject({ a: z.string(), b: z.string().nullish() })
    expect(() => schemaKeys(schema, ['a'])).toThrow(/not the schema's/)
    expect(() => schemaKeys(schema, ['b', 'a'])).toThrow(/not the schema's/)
    const known = schemaKeys(schema, ['a', 'b'])
    expect(
      copyUnknownKeys(JSON.parse('{"c":1,"a":"x","__proto__":{"p":1},"d":2}'), { a: 'x' }, known),
    ).toEqual({
      a: 'x',
      c: 1,
      d: 2,
    })
  })
})
