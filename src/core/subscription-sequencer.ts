import { LRUCache } from 'lru-cache'
import { setBounded } from './idempotency.js'

/**
 * Where the sequencer remembers, per `subscriptionId`, the highest `sequenceNumber` handled
 * (protocol §6.5). Implement it on your database to survive restarts and to share it between
 * processes; the default is an in-memory LRU store.
 *
 * @example
 * ```ts
 * import type { SequenceStore } from 'evotor-partner'
 * // SQLite: CREATE TABLE seq (subscription_id TEXT PRIMARY KEY, last INTEGER NOT NULL)
 * const store: SequenceStore = {
 *   getLastHandled: (id) => db.prepare('SELECT last FROM seq WHERE subscription_id = ?').get(id)?.last,
 *   setLastHandled: (id, n) => {
 *     db.prepare(
 *       'INSERT INTO seq (subscription_id, last) VALUES (?, ?) ON CONFLICT DO UPDATE SET last = max(last, excluded.last)',
 *     ).run(id, n)
 *   },
 * }
 * ```
 */
export interface SequenceStore {
  /** Highest sequenceNumber handled for this subscription, or undefined. */
  getLastHandled(subscriptionId: string): number | undefined | Promise<number | undefined>
  /** Record that sequenceNumber was handled; must never lower the stored value. */
  setLastHandled(subscriptionId: string, sequenceNumber: number): void | Promise<void>
  /**
   * Optional, for stores shared by several processes: call `listener(subscriptionId)` whenever
   * any process raised that subscription's number, and `listener(undefined)` when announcements
   * may have been missed (every waiting event then checks again). Returns a function that stops
   * calling `listener`. The sequencer calls it once, when an event first has to wait for its
   * predecessor; without it, an event waiting here for a predecessor handled by another process
   * only notices at the end of its hold (`holdMs`). `createRedisSequenceStore` implements it
   * with Redis pub/sub; on PostgreSQL, `LISTEN/NOTIFY` fits.
   */
  onAdvance?(listener: (subscriptionId: string | undefined) => void): () => void
}

/**
 * Options of {@link createMemorySequenceStore}.
 *
 * @example
 * ```ts
 * const options: MemorySequenceStoreOptions = { max: 10_000 }
 * const store = createMemorySequenceStore(options)
 * ```
 */
export interface MemorySequenceStoreOptions {
  /** How many subscriptions are remembered at most (least recently used are forgotten first). Default `100_000`. */
  max?: number
}

/**
 * Creates the in-memory {@link SequenceStore}: single process only, forgotten on restart (then
 * the next event of a subscription waits for the gap timeout once). Use a persistent store in
 * production.
 *
 * @example
 * ```ts
 * const store = createMemorySequenceStore()
 * store.setLastHandled('a99fbf70-6307-4acc-b61c-741ee9eef6c0', 4)
 * store.getLastHandled('a99fbf70-6307-4acc-b61c-741ee9eef6c0') // 4
 * ```
 */
export function createMemorySequenceStore(options: MemorySequenceStoreOptions = {}): SequenceStore {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('createMemorySequenceStore: options must be an object')
  }
  const { max = 100_000 } = options
  if (typeof max !== 'number' || !Number.isSafeInteger(max) || max <= 0) {
    throw new TypeError('createMemorySequenceStore: max must be a positive integer')
  }
  const last = new LRUCache<string, number>({ max })
  return {
    getLastHandled: (subscriptionId) => last.get(subscriptionId),
    setLastHandled(subscriptionId, sequenceNumber) {
      assertSequence('SequenceStore.setLastHandled', sequenceNumber)
      const previous = last.get(subscriptionId)
      if (previous === undefined || sequenceNumber > previous) last.set(subscriptionId, sequenceNumber)
    },
  }
}

/**
 * Options of {@link createSubscriptionSequencer}.
 *
 * @example
 * ```ts
 * const options: SubscriptionSequencerOptions = { holdMs: 3_000, gapTimeoutMs: 30 * 60_000 }
 * const sequencer = createSubscriptionSequencer(options)
 * ```
 */
export interface SubscriptionSequencerOptions {
  /** Where the last handled number is kept. Default {@link createMemorySequenceStore}. */
  store?: SequenceStore
  /**
   * How long one delivery waits in-request (for the subscription's lock and for a missing
   * predecessor), in ms. Default `5_000`; must stay under Evotor's 10 s (protocol §5.1).
   */
  holdMs?: number
  /**
   * After this long since an event was first seen, stop waiting for its missing predecessor and
   * handle it (tolerate gaps, protocol §11 A51). Default 10 minutes; `Infinity` never skips.
   */
  gapTimeoutMs?: number
  /** Clock in ms for the gap timeout, for tests. Default `Date.now`. */
  now?: () => number
}

/**
 * What {@link SubscriptionSequencer.run} did: `'handled'` (ran the handler; answer `200`),
 * `'stale'` (already handled; answer `200` without running it), `'deferred'` (a predecessor is
 * missing; answer non-`200` so that the Evotor cloud re-sends it about a minute later).
 *
 * @example
 * ```ts
 * const status = (outcome: SequenceOutcome) => (outcome === 'deferred' ? 503 : 200)
 * ```
 */
export type SequenceOutcome = 'handled' | 'stale' | 'deferred'

/**
 * Hands subscription events to a handler in `sequenceNumber` order per `subscriptionId`.
 *
 * @example
 * ```ts
 * const sequencer = createSubscriptionSequencer()
 * const outcome = await sequencer.run(event.subscriptionId, event.sequenceNumber, () => applyEvent(event))
 * ```
 */
export interface SubscriptionSequencer {
  /**
   * Runs `fn` for this event once its predecessor is handled; resolves with what became of it. When
   * `fn` resolves `false` the event counts as not handled (nothing recorded, `'deferred'`), as when
   * it throws, but without an exception.
   */
  run(subscriptionId: string, sequenceNumber: number, fn: () => Promise<unknown>): Promise<SequenceOutcome>
}

interface Slot {
  locked: boolean
  /** Deliveries waiting for the lock, in arrival order. */
  queue: Array<() => void>
  /** Deliveries waiting (without the lock) for a predecessor to be handled. */
  waiters: Set<() => void>
  /** Counts the advances heard from the store, so that one heard during a read is not missed. */
  heard: number
}

function assertSequence(where: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new TypeError(`${where}: sequenceNumber must be a positive integer`)
  }
}

const MAX_FIRST_SEEN = 100_000

/**
 * Creates a {@link SubscriptionSequencer} (protocol §6.5, §11 A51). Per subscription, runs are
 * serialised; an event already handled is `'stale'`; the next one runs; a later one waits up to
 * `holdMs` for its predecessor (woken when this process handles it, or another process when the
 * store has {@link SequenceStore.onAdvance}), then is handled anyway once
 * `gapTimeoutMs` has passed since it was first seen, or else `'deferred'`. A handler that throws
 * records nothing, so the retry runs it again. Wrap the handler in {@link runIdempotent} as well
 * when a crash between the handler and `setLastHandled` must not apply an event twice.
 *
 * Events older than a skipped gap are `'stale'` when they finally arrive: that is the price of
 * tolerating gaps; choose `gapTimeoutMs` accordingly.
 *
 * @example
 * ```ts
 * const sequencer = createSubscriptionSequencer({ holdMs: 5_000 })
 * const store = createMemoryIdempotencyStore()
 * const outcome = await sequencer.run(event.subscriptionId, event.sequenceNumber, async () => {
 *   const r = await runIdempotent(store, idempotencyKeyFor('subscriptionEvent', event)!, () => applyEvent(event))
 *   if (r.outcome === 'in-progress') throw new Error('already running elsewhere')
 * })
 * return outcome === 'deferred' ? 503 : 200
 * ```
 */
export function createSubscriptionSequencer(
  options: SubscriptionSequencerOptions = {},
): SubscriptionSequencer {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('createSubscriptionSequencer: options must be an object')
  }
  const { holdMs = 5_000, gapTimeoutMs = 10 * 60_000, now = Date.now } = options
  const store = options.store ?? createMemorySequenceStore()
  if (
    typeof store !== 'object' ||
    store === null ||
    typeof store.getLastHandled !== 'function' ||
    typeof store.setLastHandled !== 'function'
  ) {
    throw new TypeError('createSubscriptionSequencer: store must implement SequenceStore')
  }
  if (store.onAdvance !== undefined && typeof store.onAdvance !== 'function') {
    throw new TypeError('createSubscriptionSequencer: store.onAdvance must be a function when present')
  }
  if (typeof holdMs !== 'number' || !Number.isFinite(holdMs) || holdMs < 0 || holdMs >= 10_000) {
    throw new TypeError(
      'createSubscriptionSequencer: holdMs must be a number of ms from 0 to below 10000 (Evotor waits 10 s)',
    )
  }
  if (typeof gapTimeoutMs !== 'number' || Number.isNaN(gapTimeoutMs) || gapTimeoutMs < 0) {
    throw new TypeError('createSubscriptionSequencer: gapTimeoutMs must be a non-negative number of ms')
  }
  if (typeof now !== 'function') throw new TypeError('createSubscriptionSequencer: now must be a function')

  const slots = new Map<string, Slot>()
  // A Map, not lru-cache: entries are deleted right after use, and deleting lru-cache's last
  // entry clears arrays of length `max` on nearly every event.
  const firstSeen = new Map<string, number>()

  const slotOf = (id: string): Slot => {
    let slot = slots.get(id)
    if (slot === undefined) {
      slot = { locked: false, queue: [], waiters: new Set(), heard: 0 }
      slots.set(id, slot)
    }
    return slot
  }

  const dropIfIdle = (id: string, slot: Slot): void => {
    if (!slot.locked && slot.queue.length === 0 && slot.waiters.size === 0 && slots.get(id) === slot) {
      slots.delete(id)
    }
  }

  /** Resolves true with the lock held, or false if it was not free within timeoutMs. */
  const acquire = (slot: Slot, timeoutMs: number): Promise<boolean> => {
    if (!slot.locked) {
      slot.locked = true
      return Promise.resolve(true)
    }
    if (timeoutMs <= 0) return Promise.resolve(false)
    return new Promise((resolve) => {
      const grant = (): void => {
        clearTimeout(timer)
        resolve(true)
      }
      const timer = setTimeout(() => {
        const index = slot.queue.indexOf(grant)
        if (index !== -1) slot.queue.splice(index, 1)
        resolve(false)
      }, timeoutMs)
      slot.queue.push(grant)
    })
  }

  const release = (id: string, slot: Slot): void => {
    const next = slot.queue.shift()
    if (next === undefined) {
      slot.locked = false
      dropIfIdle(id, slot)
    } else {
      next()
    }
  }

  /** Resolves when woken or after timeoutMs; never holds the lock meanwhile (the predecessor needs it). */
  const waitForWake = (slot: Slot, timeoutMs: number): Promise<void> => {
    let wake!: () => void
    const woken = new Promise<void>((resolve) => {
      wake = resolve
    })
    slot.waiters.add(wake)
    const timer = setTimeout(wake, Math.max(0, timeoutMs))
    return woken.finally(() => {
      clearTimeout(timer)
      slot.waiters.delete(wake)
    })
  }

  const wakeAll = (slot: Slot): void => {
    const waiters = [...slot.waiters]
    slot.waiters.clear()
    for (const wake of waiters) wake()
  }

  /** Another process advanced `id` (every subscription when undefined): its waiters check again. */
  const heard = (id: string | undefined): void => {
    const targets = id === undefined ? [...slots.values()] : [slots.get(id)]
    for (const slot of targets) {
      if (slot === undefined) continue
      slot.heard++
      wakeAll(slot)
    }
  }

  // Subscribed lazily, when an event first waits: a store's subscriber connection is opened only if needed.
  let listening = false
  const listen = (): void => {
    if (listening || store.onAdvance === undefined) return
    listening = true
    try {
      store.onAdvance(heard)
    } catch {
      // Not listening: waiters notice other processes' advances at the end of their hold, as without it.
      listening = false
    }
  }

  return {
    async run(subscriptionId, sequenceNumber, fn) {
      if (typeof subscriptionId !== 'string' || subscriptionId === '') {
        throw new TypeError('SubscriptionSequencer.run: subscriptionId must be a non-empty string')
      }
      assertSequence('SubscriptionSequencer.run', sequenceNumber)
      if (typeof fn !== 'function') throw new TypeError('SubscriptionSequencer.run: fn must be a function')

      // Real elapsed time bounds the in-request wait; the injectable clock only drives the gap timeout.
      const deadline = performance.now() + holdMs
      const seenKey = `${sequenceNumber}:${subscriptionId}`
      const firstSeenAt = (): number => {
        let at = firstSeen.get(seenKey)
        if (at === undefined) {
          at = now()
          setBounded(firstSeen, MAX_FIRST_SEEN, seenKey, at)
        }
        return at
      }
      firstSeenAt()

      for (;;) {
        const slot = slotOf(subscriptionId)
        if (!(await acquire(slot, deadline - performance.now()))) {
          dropIfIdle(subscriptionId, slot)
          return 'deferred'
        }
        let wait: Promise<void>
        try {
          const heardBefore = slot.heard
          const last = (await store.getLastHandled(subscriptionId)) ?? 0
          if (sequenceNumber <= last) {
            firstSeen.delete(seenKey)
            return 'stale'
          }
          if (sequenceNumber === last + 1 || now() - firstSeenAt() >= gapTimeoutMs) {
            if ((await fn()) === false) return 'deferred'
            await store.setLastHandled(subscriptionId, sequenceNumber)
            firstSeen.delete(seenKey)
            wakeAll(slot)
            return 'handled'
          }
          const remaining = deadline - performance.now()
          if (remaining <= 0) return 'deferred'
          listen()
          // Registered while holding the lock, so a predecessor handled right after release still wakes
          // us; an advance heard from another process while we read means: read again at once.
          wait = slot.heard === heardBefore ? waitForWake(slot, remaining) : Promise.resolve()
        } finally {
          release(subscriptionId, slot)
        }
        await wait
      }
    },
  }
}
