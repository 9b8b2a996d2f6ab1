/** The HTTP variants, each served by its own child process (bench/servers.ts). */
export const VARIANTS = [
  'koa-bare',
  'koa-proxy',
  'koa-proxy-v1',
  'express-bare',
  'express-proxy',
  'express-proxy-v1',
  'webhook-stores-unique',
  'webhook-stores-duplicate',
  'webhook-receipts-unique',
  'webhook-receipts-duplicate',
] as const

/** One HTTP variant. */
export type Variant = (typeof VARIANTS)[number]

/** What a server child reports to the parent over IPC. */
export type ServerMessage =
  | { type: 'ready'; port: number }
  | { type: 'error'; message: string }
  | { type: 'cpu'; micros: number }

/** The bare framework route each variant is compared with. */
export function baselineOf(variant: Variant): Variant {
  return variant.startsWith('express-') ? 'express-bare' : 'koa-bare'
}
