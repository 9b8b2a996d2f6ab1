import { describe, expect, it } from 'vitest'
import { createMemoryIdempotencyStore, idempotencyKeyFor, runIdempotent } from '../../src/core/idempotency.js'
import {
  createMemorySequenceStore,
  createSubscriptionSequencer,
  type SequenceStore,
} from '../../src/core/subscription-sequencer.js'

const SUB = 'a99fbf70-6307-4acc-b61c-741ee9eef6c0'
const OTHER = 'b0000000-0000-4000-8000-000000000000'

const tick = (ms = 5): Promise<void> => new Promise((r) => setTimeout(r, ms))

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void
  const promise = new Promise<void>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

function fakeClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start
  return {
    now: () => t,
    advance: (ms) => {
      t += ms
    },
  }
}

describe('createSubscriptionSequencer', () => {
  it('hands out-of-order deliveries 3, 1, 2 to the handler as 1, 2, 3', async () => {
    const sequencer = createSubscriptionSequencer({ holdMs: 3_000 })
    const seen: number[] = []
    const handle = (n: number) => async () => {
      await tick(2)
      seen.push(n)
    }
    const started = performance.now()
    const results = Promise.all([
      sequencer.run(SUB, 3, handle(3)),
      sequencer.run(SUB, 1, handle(1)),
      sequencer.run(SUB, 2, handle(2)),
    ])
    expect(await results).toEqual(['handled', 'handled', 'handled'])
    expect(seen).toEqual([1, 2, 3])
    // Woken by the predecessor's handling, not by the end of the hold.
    expect(performance.now() - started).toBeLessThan(1_500)
  })

  it('proceeds in order when the predecessor arrives during the hold', async () => {
    const store = createMemorySequenceStore()
    store.setLastHandled(SUB, 1)
    const sequencer = createSubscriptionSequencer({ store, holdMs: 1_000 })
    const seen: number[] = []
    const later = sequencer.run(SUB, 3, async () => void seen.push(3))
    await tick(30)
    expect(seen).toEqual([])
    expect(await sequencer.run(SUB, 2, async () => void seen.push(2))).toBe('handled')
    expect(await later).toBe('handled')
    expect(seen).toEqual([2, 3])
    expect(await store.getLastHandled(SUB)).toBe(3)
  })

  it('acks a duplicate of a handled number as stale without calling fn', async () => {
    const sequencer = createSubscriptionSequencer({ holdMs: 200 })
    let calls = 0
    const fn = async () => {
      calls++
    }
    expect(await sequencer.run(SUB, 1, fn)).toBe('handled')
    expect(await sequencer.run(SUB, 2, fn)).toBe('handled')
    expect(await sequencer.run(SUB, 1, fn)).toBe('stale')
    expect(await sequencer.run(SUB, 2, fn)).toBe('stale')
    expect(calls).toBe(2)
  })

  it('calls fn once for 50 concurrent identical deliveries of one number', async () => {
    const sequencer = createSubscriptionSequencer()
    let calls = 0
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        sequencer.run(SUB, 1, async () => {
          calls++
          await tick(2)
        }),
      ),
    )
    expect(calls).toBe(1)
    expect(results.filter((r) => r === 'handled')).toHaveLength(1)
    expect(results.filter((r) => r === 'stale')).toHaveLength(49)
  })

  it('defers an event after a gap until gapTimeoutMs, then handles it', async () => {
    const clock = fakeClock()
    const store = createMemorySequenceStore()
    const sequencer = createSubscriptionSequencer({
      store,
      holdMs: 200,
      gapTimeoutMs: 60_000,
      now: clock.now,
    })
    const seen: number[] = []
    const handle = (n: number) => async () => void seen.push(n)

    expect(await sequencer.run(SUB, 1, handle(1))).toBe('handled')
    const started = performance.now()
    expect(await sequencer.run(SUB, 3, handle(3))).toBe('deferred')
    expect(performance.now() - started).toBeGreaterThanOrEqual(190)
    clock.advance(59_999)
    expect(await sequencer.run(SUB, 3, handle(3))).toBe('deferred')
    clock.advance(1)
    expect(await sequencer.run(SUB, 3, handle(3))).toBe('handled')
    expect(seen).toEqual([1, 3])
    expect(await store.getLastHandled(SUB)).toBe(3)
    // The late predecessor is older than the skipped gap: acknowledged, not applied out of order.
    expect(await sequencer.run(SUB, 2, handle(2))).toBe('stale')
    expect(seen).toEqual([1, 3])
  })

  it('counts the gap timeout from when the event was first seen', async () => {
    const clock = fakeClock()
    const sequencer = createSubscriptionSequencer({ holdMs: 0, gapTimeoutMs: 1_000, now: clock.now })
    expect(await sequencer.run(SUB, 5, async () => {})).toBe('deferred')
    clock.advance(600)
    expect(await sequencer.run(SUB, 6, async () => {})).toBe('deferred')
    clock.advance(400)
    expect(await sequencer.run(SUB, 6, async () => {})).toBe('deferred')
    expect(await sequencer.run(SUB, 5, async () => {})).toBe('handled')
    expect(await sequencer.run(SUB, 6, async () => {})).toBe('handled')
  })

  it('records nothing when fn throws, so the retry runs it again', async () => {
    const store = createMemorySequenceStore()
    const sequencer = createSubscriptionSequencer({ store, holdMs: 200 })
    let calls = 0
    const fn = async () => {
      calls++
      if (calls === 1) throw new Error('database down')
    }
    await expect(sequencer.run(SUB, 1, fn)).rejects.toThrow('database down')
    expect(await store.getLastHandled(SUB)).toBeUndefined()
    expect(await sequencer.run(SUB, 1, fn)).toBe('handled')
    expect(calls).toBe(2)
    expect(await store.getLastHandled(SUB)).toBe(1)
  })

  it('does not let one subscription block another', async () => {
    const sequencer = createSubscriptionSequencer({ holdMs: 300 })
    const gate = deferred()
    const slow = sequencer.run(SUB, 1, () => gate.promise)
    const waiting = sequencer.run(SUB, 5, async () => {})
    let otherDone = false
    const other = sequencer
      .run(OTHER, 1, async () => {})
      .then((r) => {
        otherDone = true
        return r
      })
    expect(await other).toBe('handled')
    expect(otherDone).toBe(true)
    gate.resolve()
    expect(await slow).toBe('handled')
    expect(await waiting).toBe('deferred')
  })

  it('defers a delivery that cannot get the subscription lock within holdMs', async () => {
    const sequencer = createSubscriptionSequencer({ holdMs: 100 })
    const gate = deferred()
    const slow = sequencer.run(SUB, 1, () => gate.promise)
    expect(await sequencer.run(SUB, 1, async () => {})).toBe('deferred')
    gate.resolve()
    expect(await slow).toBe('handled')
    expect(await sequencer.run(SUB, 1, async () => {})).toBe('stale')
  })

  it('re-checks a shared store after the hold (another process handled the predecessor)', async () => {
    const store = createMemorySequenceStore()
    const processA = createSubscriptionSequencer({ store, holdMs: 150 })
    const processB = createSubscriptionSequencer({ store, holdMs: 150 })
    const seen: number[] = []
    const later = processA.run(SUB, 2, async () => void seen.push(2))
    await tick(20)
    expect(await processB.run(SUB, 1, async () => void seen.push(1))).toBe('handled')
    expect(await later).toBe('handled')
    expect(seen).toEqual([1, 2])
  })

  it('applies each event exactly once and in order when combined with runIdempotent', async () => {
    const sequencer = createSubscriptionSequencer({ holdMs: 2_000 })
    const idempotency = createMemoryIdempotencyStore()
    const applied: number[] = []
    const deliver = async (sequenceNumber: number) => {
      const event = { subscriptionId: SUB, sequenceNumber, type: 'SubscriptionRenewed' }
      const key = idempotencyKeyFor('subscriptionEvent', event)!
      return sequencer.run(SUB, sequenceNumber, async () => {
        const result = await runIdempotent(idempotency, key, async () => {
          await tick(1)
          applied.push(sequenceNumber)
        })
        if (result.outcome === 'in-progress') throw new Error('in progress elsewhere')
      })
    }
    const deliveries: number[] = []
    for (let copy = 0; copy < 10; copy++) deliveries.push(4, 2, 3, 1)
    const results = await Promise.all(deliveries.map(deliver))
    expect(applied).toEqual([1, 2, 3, 4])
    expect(results.filter((r) => r === 'handled')).toHaveLength(4)
    expect(results.every((r) => r === 'handled' || r === 'stale')).toBe(true)
    // Re-delivered days later: still not applied again.
    expect(await Promise.all([1, 2, 3, 4].map(deliver))).toEqual(['stale', 'stale', 'stale', 'stale'])
    expect(applied).toEqual([1, 2, 3, 4])
  })

  it('works with an async store', async () => {
    const inner = createMemorySequenceStore()
    const store: SequenceStore = {
      getLastHandled: async (id) => {
        await tick(1)
        return inner.getLastHandled(id)
      },
      setLastHandled: async (id, n) => {
        await tick(1)
        await inner.setLastHandled(id, n)
      },
    }
    const sequencer = createSubscriptionSequencer({ store, holdMs: 1_000 })
    const seen: number[] = []
    const results = await Promise.all(
      [2, 1, 3].map((n) => sequencer.run(SUB, n, async () => void seen.push(n))),
    )
    expect(results).toEqual(['handled', 'handled', 'handled'])
    expect(seen).toEqual([1, 2, 3])
  })

  it('rejects bad options with a TypeError naming the option', () => {
    expect(() => createSubscriptionSequencer({ holdMs: 10_000 })).toThrow(/holdMs/)
    expect(() => createSubscriptionSequencer({ holdMs: -1 })).toThrow(/holdMs/)
    expect(() => createSubscriptionSequencer({ holdMs: Number.NaN })).toThrow(TypeError)
    expect(() => createSubscriptionSequencer({ gapTimeoutMs: -1 })).toThrow(/gapTimeoutMs/)
    expect(() => createSubscriptionSequencer({ gapTimeoutMs: Number.NaN })).toThrow(/gapTimeoutMs/)
    expect(() => createSubscriptionSequencer({ now: 'x' as unknown as () => number })).toThrow(/now/)
    expect(() => createSubscriptionSequencer({ store: {} as SequenceStore })).toThrow(/store/)
    expect(() => createMemorySequenceStore({ max: 0 })).toThrow(/max/)
    expect(() =>
      createSubscriptionSequencer({ holdMs: 9_999, gapTimeoutMs: Number.POSITIVE_INFINITY }),
    ).not.toThrow()
  })

  it('rejects a sequenceNumber that is not a positive integer', async () => {
    const sequencer = createSubscriptionSequencer()
    await expect(sequencer.run(SUB, 0, async () => {})).rejects.toThrow(TypeError)
    await expect(sequencer.run(SUB, 1.5, async () => {})).rejects.toThrow(/sequenceNumber/)
    await expect(sequencer.run('', 1, async () => {})).rejects.toThrow(/subscriptionId/)
  })
})

describe('createMemorySequenceStore', () => {
  it('never lowers the stored value', () => {
    const store = createMemorySequenceStore()
    expect(store.getLastHandled(SUB)).toBeUndefined()
    store.setLastHandled(SUB, 5)
    store.setLastHandled(SUB, 3)
    expect(store.getLastHandled(SUB)).toBe(5)
    store.setLastHandled(SUB, 6)
    expect(store.getLastHandled(SUB)).toBe(6)
  })

  it('stays bounded by max', () => {
    const store = createMemorySequenceStore({ max: 3 })
    for (let i = 0; i < 10; i++) store.setLastHandled(`sub-${i}`, 1)
    expect(store.getLastHandled('sub-9')).toBe(1)
    expect(store.getLastHandled('sub-0')).toBeUndefined()
  })
})

describe('subscription sequencer, long runs', () => {
  it('handles 3,000 in-order events one at a time', async () => {
    const sequencer = createSubscriptionSequencer({ store: createMemorySequenceStore() })
    for (let n = 1; n <= 3000; n++) {
      expect(await sequencer.run(SUB, n, async () => {})).toBe('handled')
    }
    expect(await sequencer.run(SUB, 3000, async () => {})).toBe('stale')
  })
})

describe('subscription sequencer, advances made by another process (store.onAdvance)', () => {
  /**
   * A store shared with "another process": `elsewhere(n)` records n as that process would and
   * announces it (or not) through the listener the sequencer registered.
   */
  function sharedStore(options: { duringRead?: () => void } = {}) {
    const memory = createMemorySequenceStore()
    const listeners: Array<(id: string | undefined) => void> = []
    let subscriptions = 0
    const store: SequenceStore = {
      getLastHandled(id) {
        const value = memory.getLastHandled(id)
        options.duringRead?.()
        return value
      },
      setLastHandled: (id, n) => memory.setLastHandled(id, n),
      onAdvance(listener) {
        subscriptions++
        listeners.push(listener)
        return () => listeners.splice(listeners.indexOf(listener), 1)
      },
    }
    const announce = (id: string | undefined): void => {
      for (const listener of listeners) listener(id)
    }
    return {
      store,
      announce,
      subscriptions: () => subscriptions,
      elsewhere(id: string, n: number, announced = true): void {
        memory.setLastHandled(id, n)
        if (announced) announce(id)
      },
    }
  }

  it('listens only once an event has to wait, and only once', async () => {
    const shared = sharedStore()
    const sequencer = createSubscriptionSequencer({ store: shared.store, holdMs: 50 })
    expect(await sequencer.run(SUB, 1, async () => {})).toBe('handled')
    expect(shared.subscriptions()).toBe(0)
    expect(await sequencer.run(SUB, 3, async () => {})).toBe('deferred')
    expect(await sequencer.run(OTHER, 3, async () => {})).toBe('deferred')
    expect(shared.subscriptions()).toBe(1)
  })

  it('an announced advance wakes the waiting event at once; another subscription is not woken', async () => {
    const shared = sharedStore()
    const sequencer = createSubscriptionSequencer({ store: shared.store, holdMs: 5_000 })
    shared.elsewhere(SUB, 1)
    shared.elsewhere(OTHER, 1)
    const ran: string[] = []
    const started = performance.now()
    const third = sequencer.run(SUB, 3, async () => {
      ran.push('sub:3')
    })
    const other = sequencer.run(OTHER, 3, async () => {
      ran.push('other:3')
    })
    await tick(20)
    shared.elsewhere(SUB, 2)
    expect(await third).toBe('handled')
    expect(performance.now() - started).toBeLessThan(1_000)
    expect(ran).toEqual(['sub:3'])
    shared.elsewhere(OTHER, 2)
    expect(await other).toBe('handled')
    expect(ran).toEqual(['sub:3', 'other:3'])
  })

  it('listener(undefined) makes every waiting event check again (announcements were missed)', async () => {
    const shared = sharedStore()
    const sequencer = createSubscriptionSequencer({ store: shared.store, holdMs: 5_000 })
    shared.elsewhere(SUB, 1)
    shared.elsewhere(OTHER, 1)
    const started = performance.now()
    const runs = [sequencer.run(SUB, 3, async () => {}), sequencer.run(OTHER, 3, async () => {})]
    await tick(20)
    shared.elsewhere(SUB, 2, false)
    shared.elsewhere(OTHER, 2, false)
    shared.announce(undefined)
    expect(await Promise.all(runs)).toEqual(['handled', 'handled'])
    expect(performance.now() - started).toBeLessThan(1_000)
  })

  it('an advance announced while the event reads the store is not missed', async () => {
    let duringRead: (() => void) | undefined
    const shared = sharedStore({
      duringRead: () => {
        const once = duringRead
        duringRead = undefined
        once?.()
      },
    })
    const sequencer = createSubscriptionSequencer({ store: shared.store, holdMs: 5_000 })
    // The sequencer listens once an event has waited.
    shared.elsewhere(OTHER, 1)
    const other = sequencer.run(OTHER, 3, async () => {})
    await tick(20)
    shared.elsewhere(OTHER, 2)
    expect(await other).toBe('handled')
    expect(shared.subscriptions()).toBe(1)
    // 3 reads 1; before it starts waiting, another process records and announces 2.
    shared.elsewhere(SUB, 1, false)
    duringRead = () => shared.elsewhere(SUB, 2)
    const started = performance.now()
    expect(await sequencer.run(SUB, 3, async () => {})).toBe('handled')
    expect(performance.now() - started).toBeLessThan(1_000)
  })
})
