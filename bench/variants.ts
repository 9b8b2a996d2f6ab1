/** The HTTP variants, each served by its own child process (bench/servers.ts). */
export const VARIANTS = [
  'koa-bare',
  'koa-bare-post',
  'koa-noop',
  'koa-proxy',
  'koa-proxy-v1',
  'koa-jwt',
  'express-bare',
  'express-noop',
  'express-proxy',
  'express-proxy-v1',
  'express-proxy-route',
  'hono-bare',
  'hono-noop',
  'hono-proxy',
  'hono-proxy-v1',
  'hono-proxy-route',
  'hono-fetch-proxy',
  'hono-fetch-proxy-v1',
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
  | { type: 'gc' }

/** The framework a variant runs on (webhooks and the hand-written JWT middleware are Koa). */
export function frameworkOf(variant: Variant): 'koa' | 'express' | 'hono' {
  if (variant.startsWith('express-')) return 'express'
  if (variant.startsWith('hono-')) return 'hono'
  return 'koa'
}

/** The bare framework route each variant is compared with. */
export function baselineOf(variant: Variant): Variant {
  return `${frameworkOf(variant)}-bare`
}

/**
 * The second baseline of the webhook variants: a bare Koa route that reads the same POST body
 * (with a size limit) and `JSON.parse`s it. A webhook reads, validates and de-duplicates a JSON
 * body; a GET answers without reading anything, so both comparisons are reported.
 */
export function postBaselineOf(variant: Variant): Variant | undefined {
  return variant.startsWith('webhook-') ? 'koa-bare-post' : undefined
}
