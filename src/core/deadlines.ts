/**
 * Many deadlines of the same length on one timer (design "Performance"). A webhook delivery used to
 * arm two Node timers (the body's and the handler's) and clear both a few hundred microseconds
 * later; each pair cost a `Timeout`, a libuv clock read and, once the duration's list emptied, the
 * list's removal and re-creation. Deadlines of one length expire in the order they were added, so
 * an insertion-ordered `Set` is the whole queue, and one timer, armed for the oldest entry, serves
 * all of them. When the queue empties the timer is left to run out (it is unref'd and finds nothing).
 *
 * @internal
 */

/** A deadline in a {@link DeadlineQueue}: hand it back to `cancel` once its work is done. */
export interface Deadline {
  /** When it expires, on the monotonic clock (`performance.now()`): a wall-clock step changes nothing. */
  readonly due: number
  readonly onExpire: () => void
}

/** Deadlines of `ms` milliseconds, on one unref'd timer. */
export class DeadlineQueue {
  readonly ms: number
  readonly #entries = new Set<Deadline>()
  #armed = false

  constructor(ms: number) {
    this.ms = ms
  }

  /** Calls `onExpire` once `ms` have passed, unless `cancel`ed before. */
  add(onExpire: () => void): Deadline {
    const entry: Deadline = { due: performance.now() + this.ms, onExpire }
    this.#entries.add(entry)
    if (!this.#armed) this.#arm(this.ms)
    return entry
  }

  /** Forgets `entry` (nothing happens when it already expired). */
  cancel(entry: Deadline): void {
    this.#entries.delete(entry)
  }

  /** Deadlines waiting. */
  get size(): number {
    return this.#entries.size
  }

  #arm(ms: number): void {
    this.#armed = true
    const timer = setTimeout(() => this.#expire(), ms)
    timer.unref?.()
  }

  #expire(): void {
    this.#armed = false
    try {
      const now = performance.now()
      for (const entry of this.#entries) {
        if (entry.due > now) break
        this.#entries.delete(entry)
        entry.onExpire()
      }
    } finally {
      // Also after a callback threw (it surfaces as an uncaught exception, as a timer's would).
      const next = this.#entries.values().next()
      if (!next.done && !this.#armed) this.#arm(Math.max(0, Math.ceil(next.value.due - performance.now())))
    }
  }
}

const QUEUES = new Map<number, DeadlineQueue>()
/** Distinct lengths shared; past this, each caller gets a queue of its own (still correct, not shared). */
const MAX_SHARED = 64

/**
 * The shared queue of deadlines of `ms` milliseconds.
 *
 * @internal
 */
export function deadlineQueue(ms: number): DeadlineQueue {
  let queue = QUEUES.get(ms)
  if (queue === undefined) {
    queue = new DeadlineQueue(ms)
    if (QUEUES.size < MAX_SHARED) QUEUES.set(ms, queue)
  }
  return queue
}
