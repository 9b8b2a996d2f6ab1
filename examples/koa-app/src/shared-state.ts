import type { IdempotencyStore, SequenceStore } from 'evotor-partner'
import {
  createRedisIdempotencyStore,
  createRedisRevocations,
  createRedisSequenceStore,
  type RedisRevocations,
  type RevocableVerifier,
} from 'evotor-partner/redis'
import { Redis } from 'ioredis'
import { sql } from 'kysely'
import pg from 'pg'
import type { AppDb } from './database/index.js'
import type { Logger } from './logger.js'
import { createLocalSequenceSignal, type SequenceSignal } from './sequencer.js'

/** The PostgreSQL channel revocations are announced on. */
export const REVOCATION_CHANNEL = 'evotor_partner_revocations'

/** The PostgreSQL (and Redis) channel subscription sequence advances are announced on. */
export const SEQUENCE_CHANNEL = 'evotor_partner_sequences'

/** What the instances of one service share beyond their database. */
export interface SharedState {
  /** `'redis'` when `REDIS_URL` is set, `'postgres'` (LISTEN/NOTIFY) or `'none'` (SQLite). */
  readonly kind: 'redis' | 'postgres' | 'none'
  /** The Redis idempotency and sequence stores (`undefined` without Redis: the database's are used). */
  readonly stores: { idempotency: IdempotencyStore; sequences: SequenceStore } | undefined
  /** Makes every instance's `verifier` forget a user revoked anywhere (and clear all after a lost link). */
  attach(verifier: RevocableVerifier): void
  /** Tells every instance that `userId`'s tokens were revoked. Throws when it cannot (then 503). */
  announceRevocation(userId: string): Promise<void>
  /**
   * Wakes the subscription events waiting on any instance when a sequence advances (NOTIFY on
   * PostgreSQL, pub/sub on Redis; within this process on SQLite).
   */
  readonly sequenceSignal: SequenceSignal
  /** Resolves once revocations from other instances are being received. */
  ready(): Promise<void>
  close(): Promise<void>
}

/** Options of {@link createSharedState}. */
export interface SharedStateOptions {
  data: AppDb
  /** `DATABASE_URL` (its own connection LISTENs on PostgreSQL). */
  databaseUrl?: string | undefined
  /** `REDIS_URL`: stores and revocations in Redis. */
  redisUrl?: string | undefined
  logger: Logger
}

/**
 * Chooses how instances share idempotency, ordering and revocations: Redis (`REDIS_URL`, through
 * `evotor-partner/redis`), else PostgreSQL `LISTEN/NOTIFY` next to the database's own stores, else
 * nothing (SQLite: one machine).
 *
 * @param options - database, URLs and logger
 * @returns the shared state; `close()` it on shutdown
 * @example
 * ```ts
 * const shared = createSharedState({ data, databaseUrl: config.databaseUrl, redisUrl: config.redisUrl, logger })
 * shared.attach(tokens.verifier)
 * ```
 */
export function createSharedState(options: SharedStateOptions): SharedState {
  const { data, logger } = options
  if (options.redisUrl !== undefined) return redisState(options.redisUrl, logger)
  if (data.kind === 'postgres' && options.databaseUrl !== undefined) {
    return postgresState(data, options.databaseUrl, logger)
  }
  return {
    kind: 'none',
    stores: undefined,
    sequenceSignal: createLocalSequenceSignal(),
    attach() {},
    async announceRevocation() {},
    async ready() {},
    async close() {},
  }
}

function redisState(url: string, logger: Logger): SharedState {
  // Commands fail fast while Redis is down (the stores answer 503); ioredis reconnects by itself.
  const client = new Redis(url, { maxRetriesPerRequest: 1, enableAutoPipelining: true, lazyConnect: false })
  client.on('error', () => {})
  const revocations: RedisRevocations = createRedisRevocations({
    client,
    logger,
  })
  // A subscriber connection of its own (a subscribed ioredis client runs no other command),
  // opened with the first listener.
  const sequenceListeners = new Set<(stream: string) => void>()
  let subscriber: Redis | undefined
  const listen = (): void => {
    if (subscriber !== undefined) return
    subscriber = client.duplicate({ maxRetriesPerRequest: null })
    subscriber.on('error', () => {})
    subscriber.on('message', (channel: string, stream: string) => {
      if (channel !== SEQUENCE_CHANNEL) return
      for (const listener of sequenceListeners) listener(stream)
    })
    subscriber.subscribe(SEQUENCE_CHANNEL).catch((error: unknown) => {
      logger.warn({ message: (error as Error).message }, 'sequence listener cannot subscribe to Redis')
    })
  }
  return {
    kind: 'redis',
    stores: {
      idempotency: createRedisIdempotencyStore({ client }),
      sequences: createRedisSequenceStore({ client }),
    },
    sequenceSignal: {
      async publish(stream) {
        await client.publish(SEQUENCE_CHANNEL, stream)
      },
      subscribe(listener) {
        sequenceListeners.add(listener)
        listen()
        return () => sequenceListeners.delete(listener)
      },
    },
    attach(verifier) {
      revocations.attach(verifier)
    },
    announceRevocation: (userId) => revocations.revokeUser(userId),
    ready: () => revocations.ready(),
    async close() {
      await revocations.close()
      subscriber?.disconnect()
      client.disconnect()
    },
  }
}

function postgresState(data: AppDb, url: string, logger: Logger): SharedState {
  const verifiers = new Set<RevocableVerifier>()
  const sequenceListeners = new Set<(stream: string) => void>()
  let client: pg.Client | undefined
  let closed = false
  let retryTimer: NodeJS.Timeout | undefined
  let live: Promise<void> | undefined
  let markLive: (() => void) | undefined

  const listen = async (): Promise<void> => {
    if (closed) return
    const next = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 })
    next.on('notification', (message) => {
      if (message.payload === undefined) return
      if (message.channel === SEQUENCE_CHANNEL) {
        for (const listener of sequenceListeners) listener(message.payload)
        return
      }
      if (message.channel !== REVOCATION_CHANNEL) return
      for (const verifier of verifiers) verifier.revokeUser(message.payload)
    })
    const retry = (): void => {
      if (closed || retryTimer !== undefined) return
      if (client === next) client = undefined
      next.end().catch(() => {})
      // While not listening, messages may be missed: forget every cached verification.
      for (const verifier of verifiers) verifier.clear?.()
      retryTimer = setTimeout(() => {
        retryTimer = undefined
        listen().catch(() => {})
      }, 1000)
      retryTimer.unref()
    }
    next.on('error', (error) => {
      logger.warn({ message: error.message }, 'revocation listener lost its PostgreSQL connection')
      retry()
    })
    next.on('end', retry)
    try {
      await next.connect()
      await next.query(`LISTEN ${REVOCATION_CHANNEL}`)
      await next.query(`LISTEN ${SEQUENCE_CHANNEL}`)
    } catch (error) {
      logger.warn({ message: (error as Error).message }, 'revocation listener cannot reach PostgreSQL')
      retry()
      return
    }
    if (closed) {
      await next.end().catch(() => {})
      return
    }
    client = next
    // Anything revoked while it was down was missed: start from an empty cache.
    for (const verifier of verifiers) verifier.clear?.()
    markLive?.()
  }

  /** Starts the LISTEN connection once (revocations and sequence advances share it). */
  const start = (): void => {
    if (live !== undefined) return
    live = new Promise<void>((resolve) => {
      markLive = resolve
    })
    listen().catch(() => {})
  }

  return {
    kind: 'postgres',
    stores: undefined,
    attach(verifier) {
      verifiers.add(verifier)
      start()
    },
    sequenceSignal: {
      async publish(stream) {
        await sql`SELECT pg_notify(${SEQUENCE_CHANNEL}, ${stream})`.execute(data.db)
      },
      subscribe(listener) {
        sequenceListeners.add(listener)
        start()
        return () => sequenceListeners.delete(listener)
      },
    },
    async announceRevocation(userId) {
      await sql`SELECT pg_notify(${REVOCATION_CHANNEL}, ${userId})`.execute(data.db)
    },
    ready: () => live ?? Promise.resolve(),
    async close() {
      closed = true
      if (retryTimer !== undefined) clearTimeout(retryTimer)
      const current = client
      client = undefined
      await current?.end().catch(() => {})
    },
  }
}
