/**
 * Express's response capture for the ver. 1 envelope (protocol §7.4): `res.writeHead`/`write`/`end`
 * are patched to collect what the downstream writes (JSON, text, Express's own 404, error handlers'
 * pages), and the collected answer leaves as one `{status, body}` envelope with HTTP 200. Express has
 * no awaitable downstream, so this is the only way to see the inner response.
 */
import { type IncomingMessage, ServerResponse } from 'node:http'
import type { EvotorProxy } from '../core/proxy.js'
import { dropInnerHeaders, forEnvelope } from '../core/serve-proxied.js'
import { sendNode } from './express-io.js'

type Chunk = string | Uint8Array | null | undefined
type Callback = (error?: Error | null) => void

// Express's final handler (and `serve-static`'s redirects) answer in HTML with this policy header,
// with a stack trace outside production: in ver. 1 that page becomes `{}` (as in Koa and Fetch).
function isFrameworkPage(res: ServerResponse): boolean {
  const type = String(res.getHeader('content-type') ?? '')
  return res.getHeader('content-security-policy') === "default-src 'none'" && type.startsWith('text/html')
}

const ENVELOPE = Symbol('evotor-partner.envelope')

type Writers = Pick<ServerResponse, 'writeHead' | 'write' | 'end'>

/** Per-response state of the ver. 1 envelope, kept on `res` under a symbol. */
interface EnvelopeState {
  readonly proxy: EvotorProxy
  /** `res.writeHead`/`write`/`end` before the patch (another middleware's, or the prototype's). */
  readonly original: Writers
  /** Whether they were own properties of `res` (to put back rather than delete). */
  readonly own: boolean
  /** The envelope is being sent: calls pass through to `original` (also via later patches). */
  sending: boolean
  chunks: (string | Buffer)[]
  encodings: (BufferEncoding | undefined)[]
}

type Enveloped = ServerResponse & { [ENVELOPE]?: EnvelopeState | undefined }

const PATCHED = ['writeHead', 'write', 'end'] as const

function collect(state: EnvelopeState, chunk: Chunk, encoding: BufferEncoding | undefined): void {
  if (chunk === null || chunk === undefined) return
  state.chunks.push(typeof chunk === 'string' || Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk))
  state.encodings.push(encoding)
}

/** The collected body: a single string or Buffer as it came, several joined into one Buffer. */
function collected(state: EnvelopeState): string | Buffer {
  const { chunks, encodings } = state
  const first = chunks[0]
  if (chunks.length === 1 && first !== undefined) {
    if (typeof first !== 'string') return first
    const encoding = encodings[0]
    if (encoding === undefined || encoding === 'utf8' || encoding === 'utf-8') return first
  }
  return Buffer.concat(
    chunks.map((chunk, i) => (typeof chunk === 'string' ? Buffer.from(chunk, encodings[i]) : chunk)),
  )
}

/** Where a call goes when the envelope is not collecting: the methods `res` had before. */
function passthrough(res: Enveloped): Writers {
  return res[ENVELOPE]?.original ?? ServerResponse.prototype
}

/** Takes our methods off `res` where they are still ours; later patches by others stay. */
function restore(res: Enveloped, state: EnvelopeState): void {
  res[ENVELOPE] = undefined
  const patched = res as Partial<Writers>
  for (const name of PATCHED) {
    if (patched[name] !== OURS[name]) continue
    if (state.own) (patched as Record<string, unknown>)[name] = state.original[name]
    else delete patched[name]
  }
}

/** Whether another middleware patched `res` after us (its methods wrap ours). */
function patchedOver(res: Enveloped): boolean {
  return res.end !== OURS.end || res.write !== OURS.write || res.writeHead !== OURS.writeHead
}

function envelopeWriteHead(this: Enveloped, status: number, ...rest: unknown[]): Enveloped {
  const state = this[ENVELOPE]
  if (state === undefined || state.sending) {
    return passthrough(this).writeHead.apply(this, [status, ...rest] as never) as Enveloped
  }
  this.statusCode = status
  const headers = typeof rest[0] === 'string' ? rest[1] : rest[0]
  if (Array.isArray(headers)) {
    const flat = headers.flat() as string[]
    for (let i = 0; i + 1 < flat.length; i += 2) this.setHeader(flat[i] as string, flat[i + 1] as string)
  } else if (headers !== undefined && headers !== null) {
    for (const [name, value] of Object.entries(headers)) {
      if (value !== undefined) this.setHeader(name, value as string)
    }
  }
  return this
}

function envelopeWrite(
  this: Enveloped,
  chunk: Chunk,
  encoding?: BufferEncoding | Callback,
  callback?: Callback,
): boolean {
  const state = this[ENVELOPE]
  if (state === undefined || state.sending) {
    return passthrough(this).write.apply(this, [chunk, encoding, callback] as never)
  }
  collect(state, chunk, typeof encoding === 'string' ? encoding : undefined)
  const done = typeof encoding === 'function' ? encoding : callback
  if (done !== undefined) process.nextTick(done)
  return true
}

function envelopeEnd(
  this: Enveloped,
  chunk?: Chunk | Callback,
  encoding?: BufferEncoding | Callback,
  callback?: Callback,
): Enveloped {
  const state = this[ENVELOPE]
  if (state === undefined || state.sending) {
    return passthrough(this).end.apply(this, [chunk, encoding, callback] as never) as Enveloped
  }
  if (typeof chunk !== 'function') collect(state, chunk, typeof encoding === 'string' ? encoding : undefined)
  const done = typeof chunk === 'function' ? chunk : typeof encoding === 'function' ? encoding : callback
  const framework = isFrameworkPage(this)
  const contentType = framework ? 'application/json' : this.getHeader('content-type')?.toString()
  const body = framework ? {} : collected(state)
  const answer = state.proxy.envelope({ status: this.statusCode, body, contentType })
  dropInnerHeaders(this)
  if (patchedOver(this)) {
    // Sent through `res` as it is now, so the patches added after ours still see the answer.
    state.sending = true
    sendNode(this, answer)
    restore(this, state)
  } else {
    restore(this, state)
    sendNode(this, answer)
  }
  if (done !== undefined) this.once('finish', done)
  return this
}

const OURS = {
  writeHead: envelopeWriteHead,
  write: envelopeWrite,
  end: envelopeEnd,
} as unknown as Writers

/** Buffers whatever the downstream writes, then sends it as one ver. 1 envelope (protocol §7.4). */
export function envelopeResponses(req: IncomingMessage, res: Enveloped, proxy: EvotorProxy): void {
  forEnvelope(req.headers)
  // Mounted twice on one request (app and router): one envelope, not a lost answer.
  if (res[ENVELOPE] !== undefined) return
  res[ENVELOPE] = {
    proxy,
    original: { writeHead: res.writeHead, write: res.write, end: res.end },
    own: Object.hasOwn(res, 'end') || Object.hasOwn(res, 'write') || Object.hasOwn(res, 'writeHead'),
    sending: false,
    chunks: [],
    encodings: [],
  }
  res.writeHead = OURS.writeHead
  res.write = OURS.write
  res.end = OURS.end
}
