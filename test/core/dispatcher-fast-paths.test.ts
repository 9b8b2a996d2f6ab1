/**
 * The dispatcher's promise-free paths (idempotency with a synchronous store, validation in one go)
 * keep the semantics of the general ones they stand in for.
 */
import { describe, expect, it, vi } from 'vitest'
import { z } from 'zod'
import { isEvotorError } from '../../src/core/evotor-error.js'
import {
  createMemoryIdempotencyStore,
  type IdempotencyStore,
  runIdempotentOutcome,
} from '../../src/core/idempotency.js'
import { parseIncomingAsync, parseIncomingMaybeAsync } from '../../src/core/validation.js'

/** The memory store behind async methods, like a database-backed store. */
function asyncStore(inner: IdempotencyStore): IdempotencyStore {
  return {
    claim: async (key, leaseMs) => inner.claim(key, leaseMs),
    complete: async (key) => inner.complete(key),
    release: async (key) => inner.release(key),
  }
}

describe('runIdempotentOutcome', () => {
  for (const [name, make] of [
    ['synchronous store', () => createMemoryIdempotencyStore()],
    ['asynchronous store', () => asyncStore(createMemoryIdempotencyStore())],
  ] as const) {
    it(`${name}: runs once, then done; in-progress while running; released on failure`, async () => {
      const store = make()
      const fn = vi.fn(async () => {})
      expect(await runIdempotentOutcome(store, 'k', fn, 1000)).toBe('ran')
      expect(await runIdempotentOutcome(store, 'k', fn, 1000)).toBe('done')
      expect(fn).toHaveBeenCalledOnce()

      let finish!: () => void
      const running = runIdempotentOutcome(store, 'slow', () => new Promise<void>((r) => (finish = r)), 1000)
      await Promise.resolve()
      await Promise.resolve()
      expect(await runIdempotentOutcome(store, 'slow', fn, 1000)).toBe('in-progress')
      finish()
      expect(await running).toBe('ran')

      const boom = new Error('boom')
      await expect(runIdempotentOutcome(store, 'bad', async () => Promise.reject(boom), 1000)).rejects.toBe(
        boom,
      )
      // Released: the retry runs it again.
      expect(await runIdempotentOutcome(store, 'bad', fn, 1000)).toBe('ran')
      expect(fn).toHaveBeenCalledTimes(2)
    })
  }

  it('refuses an empty key and a store answering something else', async () => {
    const store = createMemoryIdempotencyStore()
    await expect(runIdempotentOutcome(store, '', async () => {}, 1000)).rejects.toThrow(TypeError)
    const odd = { ...store, claim: () => 'maybe' } as unknown as IdempotencyStore
    await expect(runIdempotentOutcome(odd, 'k', async () => {}, 1000)).rejects.toThrow(/claim returned maybe/)
  })

  it('a failing complete() rejects, as runIdempotent does', async () => {
    const store = { ...createMemoryIdempotencyStore(), complete: () => Promise.reject(new Error('db down')) }
    await expect(runIdempotentOutcome(store, 'k', async () => {}, 1000)).rejects.toThrow('db down')
  })
})

describe('parseIncomingMaybeAsync', () => {
  const schema = z.array(z.object({ id: z.string() }))

  it('answers without a promise for bodies validated in one go, and throws the same EvotorError', () => {
    expect(parseIncomingMaybeAsync(schema, [{ id: 'a' }])).toEqual([{ id: 'a' }])
    let caught: unknown
    try {
      parseIncomingMaybeAsync(schema, [{ id: 1 }])
    } catch (error) {
      caught = error
    }
    expect(isEvotorError(caught) && caught.toBody()).toEqual({
      errors: [{ code: 2003, reason: 'incorrect', subject: '0.id', value: 1 }],
    })
  })

  it('returns a promise for arrays validated in chunks, with parseIncomingAsync results', async () => {
    const many = Array.from({ length: 2500 }, (_, i) => ({ id: String(i) }))
    const result = parseIncomingMaybeAsync(schema, many)
    expect(result).toBeInstanceOf(Promise)
    expect(await result).toEqual(await parseIncomingAsync(schema, many))
    const bad = many.map((item, i) => (i === 2100 ? { id: 5 } : item))
    const [a, b] = await Promise.allSettled([
      parseIncomingMaybeAsync(schema, bad),
      parseIncomingAsync(schema, bad),
    ])
    expect(a.status).toBe('rejected')
    expect((a as PromiseRejectedResult).reason.toBody()).toEqual((b as PromiseRejectedResult).reason.toBody())
  })
})
