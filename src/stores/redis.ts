/**
 * `evotor-partner/redis`: the stores that let several instances of a partner service behave as
 * one, on Redis through ioredis (an optional peer dependency). Nothing connects at import time.
 *
 * @module
 */

// Re-exported so that `evotor-partner/redis` alone is enough, and `EvotorError` is the same class everywhere.
export { EvotorError, isEvotorError } from '../core/evotor-error.js'
export type { RevocableVerifier, RevocationStore } from '../core/revocations.js'
export type { RedisClient, RedisStoreOptions } from './redis-command.js'
export { createRedisIdempotencyStore, type RedisIdempotencyStoreOptions } from './redis-idempotency.js'
export {
  createRedisRevocations,
  type RedisRevocations,
  type RedisRevocationsOptions,
} from './redis-revocations.js'
export {
  createRedisSequenceStore,
  type RedisSequenceStore,
  type RedisSequenceStoreOptions,
} from './redis-sequence.js'
export { StoreUnavailableError } from './store-unavailable.js'
