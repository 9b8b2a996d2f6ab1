/**
 * A per-token concurrency limit: Evotor counts rate limits per token (evotor-cloud-api.md §1
 * "Rate limits"), so one user's burst must not queue behind, or starve, another user's calls.
 * Entries exist only while a token has calls in flight, so memory is bounded by live tokens.
 */

interface Slot {
  active: number
  queue: Array<{ start: () => void }>
}

/** @internal */
export interface TokenLimiter {
  run<T>(key: string, signal: AbortSignal | undefined, task: () => Promise<T>): Promise<T>
  /** Keys with calls running or queued (for tests and benchmarks). */
  readonly size: number
}

/** @internal */
export function createTokenLimiter(concurrency: number): TokenLimiter {
  const slots = new Map<string, Slot>()

  const release = (key: string, slot: Slot): void => {
    const next = slot.queue.shift()
    if (next !== undefined) {
      next.start()
      return
    }
    slot.active -= 1
    if (slot.active === 0) slots.delete(key)
  }

  const acquire = (key: string, signal: AbortSignal | undefined): Promise<Slot> => {
    let slot = slots.get(key)
    if (slot === undefined) {
      slot = { active: 0, queue: [] }
      slots.set(key, slot)
    }
    if (slot.active < concurrency) {
      slot.active += 1
      return Promise.resolve(slot)
    }
    const owned = slot
    return new Promise<Slot>((resolve, reject) => {
      const waiter = {
        // The slot is handed over as is: `active` stays the same.
        start: () => {
          signal?.removeEventListener('abort', onAbort)
          resolve(owned)
        },
      }
      const onAbort = (): void => {
        const index = owned.queue.indexOf(waiter)
        if (index >= 0) owned.queue.splice(index, 1)
        reject(signal?.reason)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      owned.queue.push(waiter)
    })
  }

  return {
    async run(key, signal, task) {
      signal?.throwIfAborted()
      const slot = await acquire(key, signal)
      try {
        return await task()
      } finally {
        release(key, slot)
      }
    },
    get size() {
      return slots.size
    },
  }
}
