import { createHash } from 'node:crypto'
import type { SequenceStore } from 'evotor-partner'

/**
 * How instances tell each other that a subscription's sequence advanced (PostgreSQL
 * `LISTEN/NOTIFY` or Redis pub/sub, see `createSharedState`). Best effort: a lost signal only
 * makes a waiting event wait out its hold, as without it.
 */
export interface SequenceSignal {
  /** Tells every instance, this one included, that `stream` advanced. */
  publish(stream: string): Promise<void>
  /** Calls `listener` with each advanced stream; returns the unsubscribe function. */
  subscribe(listener: (stream: string) => void): () => void
}

/**
 * A signal within one process (SQLite: one instance).
 *
 * @example
 * ```ts
 * const signal = createLocalSequenceSignal()
 * ```
 */
export function createLocalSequenceSignal(): SequenceSignal {
  const listeners = new Set<(stream: string) => void>()
  return {
    async publish(stream) {
      for (const listener of listeners) listener(stream)
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
}

/** Options of {@link createSharedSequencer}. */
export interface SharedSequencerOptions {
  /** The last handled number per stream, shared by the instances (database or Redis). */
  store: SequenceStore
  /** Advances announced by the other instances (and this one). */
  signal: SequenceSignal
  /** How long an early event waits for its predecessor, in ms (default 5000, below Evotor's 10 s). */
  holdMs?: number
  /** After this long since an event was first seen, stop waiting for a missing predecessor (default 10 min). */
  gapTimeoutMs?: number
  /** Told when a signal cannot be published (the other instances then wait out their hold). */
  onPublishError?: (error: unknown) => void
}

/** What the sequencer did with one event, as the library's own sequencer answers it. */
export type SequenceOutcome = 'handled' | 'stale' | 'deferred'

/** What the sequencer does with one event. */
export interface SharedSequencer {
  run(stream: string, sequenceNumber: number, fn: () => Promise<unknown>): Promise<SequenceOutcome>
  /** Stops listening to the signal. */
  close(): void
}

const MAX_FIRST_SEEN = 100_000
// The library's key parts (`userScopedKey`), so that the numbers stored by earlier versions,
// which let the library order events, stay valid: `<user>:<subscription>`, each part as is when
// short and plain, else `#` + its SHA-256.
const SAFE_PART = /^[A-Za-z0-9_.@-]{1,128}$/
const part = (text: string): string =>
  SAFE_PART.test(text) ? text : `#${createHash('sha256').update(text, 'utf8').digest('base64url')}`

/**
 * The stream of a user's subscription: the key the library's dispatcher orders by.
 *
 * @example
 * ```ts
 * sequenceStream('01-000000000000001', 'a99fbf70-6307-4acc-b61c-741ee9eef6c0')
 * ```
 */
export function sequenceStream(userId: string, subscriptionId: string): string {
  return `${part(userId)}:${part(subscriptionId)}`
}

/**
 * Hands subscription events over in `sequenceNumber` order per stream, across instances: the
 * same outcomes as the library's `createSubscriptionSequencer` (`stale` at or below the last
 * handled number, the next one runs, a later one waits up to `holdMs` for its predecessor, then
 * runs once `gapTimeoutMs` has passed since it was first seen, or is `deferred`), but a waiting
 * event is woken when ANY instance handles its predecessor, through `signal`, instead of only
 * when this process does. The waiter is registered before the number is read, so an advance
 * between the two is never missed.
 *
 * @example
 * ```ts
 * const sequencer = createSharedSequencer({ store: sequences, signal: shared.sequenceSignal })
 * const outcome = await sequencer.run(sequenceStream(userId, event.subscriptionId), event.sequenceNumber, apply)
 * ```
 */
export function createSharedSequencer(options: SharedSequencerOptions): SharedSequencer {
  const { store, signal, holdMs = 5_000, gapTimeoutMs = 10 * 60_000 } = options
  if (!Number.isFinite(holdMs) || holdMs < 0 || holdMs >= 10_000) {
    throw new TypeError('createSharedSequencer: holdMs must be from 0 to below 10000 ms (Evotor waits 10 s)')
  }
  const waiters = new Map<string, Set<() => void>>()
  const firstSeen = new Map<string, number>()
  const wake = (stream: string): void => {
    const set = waiters.get(stream)
    if (set === undefined) return
    waiters.delete(stream)
    for (const resolve of set) resolve()
  }
  const unsubscribe = signal.subscribe(wake)

  /** A promise resolved by the next advance of `stream`, or after `ms`; `cancel` forgets it. */
  const register = (stream: string) => {
    let resolve!: () => void
    const woken = new Promise<void>((r) => {
      resolve = r
    })
    let set = waiters.get(stream)
    if (set === undefined) {
      set = new Set()
      waiters.set(stream, set)
    }
    set.add(resolve)
    const cancel = (): void => {
      const current = waiters.get(stream)
      current?.delete(resolve)
      if (current?.size === 0) waiters.delete(stream)
    }
    return {
      wait(ms: number): Promise<void> {
        let timer: NodeJS.Timeout | undefined
        return Promise.race([woken, new Promise<void>((r) => (timer = setTimeout(r, ms)))]).finally(() =>
          clearTimeout(timer),
        )
      },
      cancel,
    }
  }

  return {
    async run(stream, sequenceNumber, fn) {
      const deadline = performance.now() + holdMs
      const seenKey = `${sequenceNumber}:${stream}`
      let seenAt = firstSeen.get(seenKey)
      if (seenAt === undefined) {
        seenAt = Date.now()
        if (firstSeen.size >= MAX_FIRST_SEEN) firstSeen.delete(firstSeen.keys().next().value as string)
        firstSeen.set(seenKey, seenAt)
      }
      for (;;) {
        const waiter = register(stream)
        try {
          const last = (await store.getLastHandled(stream)) ?? 0
          if (sequenceNumber <= last) {
            firstSeen.delete(seenKey)
            return 'stale'
          }
          if (sequenceNumber === last + 1 || Date.now() - seenAt >= gapTimeoutMs) {
            if ((await fn()) === false) return 'deferred'
            await store.setLastHandled(stream, sequenceNumber)
            firstSeen.delete(seenKey)
            wake(stream)
            await signal.publish(stream).catch((error: unknown) => options.onPublishError?.(error))
            return 'handled'
          }
          const remaining = deadline - performance.now()
          if (remaining <= 0) return 'deferred'
          await waiter.wait(remaining)
        } finally {
          waiter.cancel()
        }
      }
    },
    close: unsubscribe,
  }
}
