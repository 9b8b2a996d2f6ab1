import type { SequenceStore } from 'evotor-partner'

/** An in-memory store, as the library's default one behaves: the mark is only ever raised. */
function createMemorySequenceStore(): SequenceStore {
  const last = new Map<string, number>()
  return {
    getLastHandled: (id) => last.get(id),
    setLastHandled: (id, n) => {
      if ((last.get(id) ?? 0) < n) last.set(id, n)
    },
  }
}

import { describe, expect, it } from 'vitest'
import { createLocalSequenceSignal, createSharedSequencer, sequenceStream } from '../src/sequencer.js'

// Two sequencers over one store stand for two instances; a shared signal is their channel.
describe('createSharedSequencer', () => {
  it('an event waiting on one instance is woken by the advance on another', async () => {
    const store = createMemorySequenceStore()
    const signal = createLocalSequenceSignal()
    const one = createSharedSequencer({ store, signal, holdMs: 9_000 })
    const two = createSharedSequencer({ store, signal, holdMs: 9_000 })
    const applied: number[] = []
    const waiting = two.run('s', 2, async () => applied.push(2))
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(applied).toEqual([])
    const started = performance.now()
    expect(await one.run('s', 1, async () => applied.push(1))).toBe('handled')
    expect(await waiting).toBe('handled')
    expect(performance.now() - started).toBeLessThan(1_000)
    expect(applied).toEqual([1, 2])
    expect(await one.run('s', 2, async () => applied.push(99))).toBe('stale')
  })

  it('without the channel, the waiting event is handled only after its hold', async () => {
    const store = createMemorySequenceStore()
    const one = createSharedSequencer({ store, signal: createLocalSequenceSignal(), holdMs: 400 })
    const two = createSharedSequencer({ store, signal: createLocalSequenceSignal(), holdMs: 400 })
    const started = performance.now()
    const waiting = two.run('s', 2, async () => {})
    await one.run('s', 1, async () => {})
    expect(await waiting).toBe('handled')
    expect(performance.now() - started).toBeGreaterThanOrEqual(390)
  })

  it('defers an event whose predecessor never comes, and handles it after the gap timeout', async () => {
    const store = createMemorySequenceStore()
    const sequencer = createSharedSequencer({
      store,
      signal: createLocalSequenceSignal(),
      holdMs: 50,
      gapTimeoutMs: 150,
    })
    expect(await sequencer.run('s', 3, async () => {})).toBe('deferred')
    await new Promise((resolve) => setTimeout(resolve, 150))
    expect(await sequencer.run('s', 3, async () => {})).toBe('handled')
    expect(store.getLastHandled('s')).toBe(3)
  })

  it('a handler answering false or throwing records nothing', async () => {
    const store = createMemorySequenceStore()
    const sequencer = createSharedSequencer({ store, signal: createLocalSequenceSignal(), holdMs: 0 })
    expect(await sequencer.run('s', 1, async () => false)).toBe('deferred')
    await expect(sequencer.run('s', 1, async () => Promise.reject(new Error('down')))).rejects.toThrow('down')
    expect(store.getLastHandled('s')).toBeUndefined()
  })

  it('streams are the library keys: per user, long or odd ids hashed', () => {
    expect(sequenceStream('01-000000000000001', 'a99fbf70-6307-4acc-b61c-741ee9eef6c0')).toBe(
      '01-000000000000001:a99fbf70-6307-4acc-b61c-741ee9eef6c0',
    )
    expect(sequenceStream('01-000000000000001', 'a b')).toMatch(/^01-000000000000001:#[A-Za-z0-9_-]{43}$/)
  })
})
