import type { Redis } from 'ioredis'
import type { LogSink } from '../core/logger.js'
import type { WebhookLogger } from '../core/webhooks.js'
import type { RedisClient } from './redis-command.js'

/**
 * A live subscription of one connection to one channel.
 *
 * @internal
 */
export interface Subscription {
  readonly connection: Redis
  readonly owned: boolean
  /** Resolves when the first SUBSCRIBE is confirmed. */
  readonly live: Promise<void>
  stop(): void
}

/**
 * Subscribes `connection` to `channel` now and again after every reconnect (a resubscription
 * means messages may have been missed: `onResubscribed`). Never throws or rejects unhandled.
 *
 * @internal
 */
export function subscribe(
  connection: Redis,
  owned: boolean,
  channel: string,
  on: { onMessage: (message: string) => void; onResubscribed: () => void },
  logger: LogSink,
  what: string,
): Subscription {
  let subscribed = false
  let pending = false
  let resolveLive!: () => void
  const live = new Promise<void>((resolve) => {
    resolveLive = resolve
  })
  const onMessage = (from: string, message: string): void => {
    if (from === channel && message !== '') on.onMessage(message)
  }
  const onError = (error: unknown): void => {
    logger.warn(`evotor-partner: redis ${what} subscriber error`, {
      error: error instanceof Error ? error.message : String(error),
    })
  }
  // Idempotent on the server; run at start and on every (re)connect, whatever ioredis resubscribes itself.
  const start = (): void => {
    if (pending) return
    pending = true
    connection.subscribe(channel).then(
      () => {
        pending = false
        if (subscribed) on.onResubscribed()
        subscribed = true
        resolveLive()
      },
      (error: unknown) => {
        pending = false
        onError(error)
      },
    )
  }
  const onClose = (): void => {
    // Until resubscribed, messages from other instances are not heard.
    if (subscribed) on.onResubscribed()
  }
  connection.on('message', onMessage)
  connection.on('error', onError)
  connection.on('ready', start)
  connection.on('close', onClose)
  start()
  return {
    connection,
    owned,
    live,
    stop() {
      connection.off('message', onMessage)
      connection.off('ready', start)
      connection.off('close', onClose)
      // The error listener stays on a connection we close, so a late error is never "unhandled".
      if (!owned) connection.off('error', onError)
    },
  }
}

/**
 * A new connection with the client's options (a Cluster's duplicate subscribes cluster-wide).
 *
 * @internal
 */
export function duplicate(client: RedisClient): Redis {
  return (client as Redis).duplicate()
}

/**
 * The `logger` and `subscriber` options of a store that listens on a channel, checked (a TypeError
 * naming `factory` otherwise).
 */
export function subscriberOptions(
  factory: string,
  options: { logger?: Pick<WebhookLogger, 'warn'> | undefined; subscriber?: Redis | undefined },
): { logger: Pick<WebhookLogger, 'warn'> | undefined; subscriber: Redis | undefined } {
  const { logger, subscriber } = options
  if (
    logger !== undefined &&
    (typeof logger !== 'object' || logger === null || typeof logger.warn !== 'function')
  ) {
    throw new TypeError(`${factory}: \`logger\` must have a warn() method`)
  }
  if (
    subscriber !== undefined &&
    (typeof subscriber !== 'object' || subscriber === null || typeof subscriber.subscribe !== 'function')
  ) {
    throw new TypeError(`${factory}: \`subscriber\` must be an ioredis Redis client`)
  }
  return { logger, subscriber }
}
