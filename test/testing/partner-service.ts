/**
 * A small partner service on node:http for the conformance tests: correct by default, with
 * switches that break it the way real services break.
 */
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface TestServiceOptions {
  appToken?: string
  appBasic?: { username: string; password: string }
  /** Partner logins accepted by user/verify. */
  accounts?: Record<string, string>
  proxyVersion?: 1 | 2
  /** Status of successful notifications (a broken service answers 201). */
  notificationStatus?: number
  /** What happens to an already seen (subscriptionId, sequenceNumber). */
  duplicates?: 'ignore' | 'reject' | 'apply-twice'
  /** How an event that arrives before its predecessor is answered. */
  outOfOrder?: 'not-yet' | 'hold' | 'apply-and-reject-stale'
  /** Length of issued user tokens (a broken service issues 200 characters). */
  tokenLength?: number
  /** Trust X-Evotor-* headers without checking the token (broken). */
  trustForgedHeaders?: boolean
  /** Keep the token valid after ApplicationUninstalled (broken). */
  keepTokenAfterUninstall?: boolean
  /** Accept any app credential and any user token (broken). */
  acceptAnyCredential?: boolean
  /** Sleep before answering requests to this path. */
  slowPath?: { path: string; ms: number }
}

export interface TestService {
  url: string
  /** Events applied, in order (a duplicate applied twice shows up twice). */
  applied: Array<{ subscriptionId: string; sequenceNumber: number; type: string }>
  close(): Promise<void>
}

type Json = Record<string, unknown>

export async function startTestService(options: TestServiceOptions = {}): Promise<TestService> {
  const proxyVersion = options.proxyVersion ?? 2
  const tokens = new Map<string, string>() // token -> userId
  const tokenOf = new Map<string, string>() // userId -> token
  const seen = new Set<string>()
  const last = new Map<string, number>()
  const applied: TestService['applied'] = []
  const products = new Map<string, Json>() // barcode -> product
  const waiters = new Set<() => void>()

  const appOk = (header: string | undefined): boolean => {
    if (options.acceptAnyCredential === true) return true
    if (options.appToken !== undefined && header === `Bearer ${options.appToken}`) return true
    if (options.appBasic !== undefined) {
      const { username, password } = options.appBasic
      return header === `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`
    }
    return false
  }
  const userOf = (header: string | undefined): string | undefined => {
    const token = header?.replace(/^Bearer /i, '')
    if (options.acceptAnyCredential === true)
      return token === undefined ? undefined : (tokens.get(token) ?? 'anyone')
    return token === undefined ? undefined : tokens.get(token)
  }
  const issue = (userId: string): string => {
    const existing = tokenOf.get(userId)
    if (existing !== undefined) return existing
    const length = options.tokenLength ?? 43
    const token = randomBytes(length).toString('base64url').slice(0, length)
    tokens.set(token, userId)
    tokenOf.set(userId, token)
    return token
  }

  const send = (res: ServerResponse, status: number, body?: unknown): void => {
    if (body === undefined) {
      res.writeHead(status).end()
      return
    }
    res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8' }).end(JSON.stringify(body))
  }
  const error = (res: ServerResponse, status: number, item: Json): void =>
    send(res, status, { errors: [item] })
  const proxySend = (res: ServerResponse, status: number, body: unknown): void => {
    if (proxyVersion === 1) send(res, 200, { status, body: JSON.stringify(body) })
    else send(res, status, body)
  }

  const applyEvent = (event: Json): void => {
    applied.push({
      subscriptionId: String(event.subscriptionId),
      sequenceNumber: Number(event.sequenceNumber),
      type: String(event.type),
    })
  }

  const subscriptionEvent = async (res: ServerResponse, event: Json): Promise<void> => {
    const id = String(event.subscriptionId)
    const seq = Number(event.sequenceNumber)
    const key = `${id}:${seq}`
    const ok = options.notificationStatus ?? 200
    if (seen.has(key)) {
      if (options.duplicates === 'reject') return error(res, 409, { code: 2005 })
      if (options.duplicates === 'apply-twice') applyEvent(event)
      return send(res, ok)
    }
    const previous = last.get(id) ?? 0
    if (seq <= previous && options.outOfOrder === 'apply-and-reject-stale')
      return error(res, 409, { code: 2005 })
    if (seq > previous + 1 && seq !== 1) {
      if (options.outOfOrder === 'hold') {
        await new Promise<void>((resolve) => {
          const wake = (): void => {
            if ((last.get(id) ?? 0) >= seq - 1) {
              waiters.delete(wake)
              resolve()
            }
          }
          waiters.add(wake)
        })
      } else if (options.outOfOrder !== 'apply-and-reject-stale') {
        return send(res, 503, {})
      }
    }
    seen.add(key)
    applyEvent(event)
    last.set(id, Math.max(seq, last.get(id) ?? 0))
    for (const wake of [...waiters]) wake()
    send(res, ok)
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const path = url.pathname
    const auth = req.headers.authorization
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const raw = Buffer.concat(chunks).toString('utf8')
    if (options.slowPath?.path === path)
      await new Promise((resolve) => setTimeout(resolve, options.slowPath?.ms))
    let body: unknown
    if (raw !== '') {
      try {
        body = JSON.parse(raw)
      } catch {
        body = Symbol.for('bad-json')
      }
    }
    const badJson = body === Symbol.for('bad-json')
    const obj = (typeof body === 'object' && body !== null ? body : {}) as Json

    if (path === '/terminal/whoami' || path === '/terminal/state') {
      const headerUser = req.headers['x-evotor-user-id']
      if (options.trustForgedHeaders !== true) {
        const tokenUser = userOf(auth)
        if (tokenUser === undefined || tokenUser !== headerUser) {
          return proxySend(res, 401, { errors: [{ code: 1002 }] })
        }
      }
      if (path === '/terminal/state') return proxySend(res, 200, { applied })
      return proxySend(res, 200, { userId: headerUser, storeUuid: req.headers['x-evotor-store-uuid'] })
    }

    const ok = options.notificationStatus ?? 200
    if (path === '/api/v1/user/create' || path === '/api/v1/user/verify' || path === '/api/v1/user/token') {
      if (!appOk(auth)) return error(res, 401, { code: 1001 })
      if (badJson) return error(res, 400, { code: 2001 })
      if (typeof obj.userId !== 'string')
        return error(res, 400, { code: 2002, reason: 'missing', subject: 'userId' })
      if (path === '/api/v1/user/token') return send(res, 200)
      if (path === '/api/v1/user/verify') {
        const password = options.accounts?.[String(obj.username)]
        if (password === undefined || password !== obj.password) return error(res, 401, { code: 1006 })
        return send(res, 200, { userId: obj.userId, hasBilling: false, token: issue(obj.userId) })
      }
      return send(res, 200, { userId: obj.userId, token: issue(obj.userId) })
    }

    if (path === '/api/v1/subscription/event' || path === '/api/v2/installation/event') {
      if (!appOk(auth) && userOf(auth) === undefined) return error(res, 401, { code: 1001 })
      if (badJson) return error(res, 400, { code: 2001 })
      if (path === '/api/v1/subscription/event') return subscriptionEvent(res, obj)
      if (obj.type === 'ApplicationUninstalled' && options.keepTokenAfterUninstall !== true) {
        const userId = String((obj.data as Json | undefined)?.userId)
        const token = tokenOf.get(userId)
        if (token !== undefined) tokens.delete(token)
      }
      return send(res, ok)
    }

    if (path === '/api/v1/commodities') {
      if (userOf(auth) === undefined && !appOk(auth)) return error(res, 401, { code: 1001 })
      const scanCode = url.searchParams.get('scanCode')
      if (scanCode === null) return error(res, 400, { code: 2002, reason: 'missing', subject: 'scanCode' })
      const product = products.get(scanCode)
      if (product === undefined) return send(res, 404, {})
      return send(res, 200, {
        name: product.name,
        measure: product.measureName,
        scanCodes: product.barCodes,
        alcCodes: null,
      })
    }

    const notification =
      /^\/api\/v1\/inventories\/(stores|devices|employees)$/.test(path) ||
      /^\/api\/v1\/inventories\/stores\/[^/]+\/(products|documents)$/.test(path) ||
      path === '/api/v2/receipts'
    if (notification) {
      if (userOf(auth) === undefined) return error(res, 401, { code: 1002 })
      if (badJson) return error(res, 400, { code: 2001 })
      if (path.endsWith('/products') && Array.isArray(body)) {
        for (const product of body as Json[]) {
          for (const code of (product.barCodes as string[] | undefined) ?? []) products.set(code, product)
        }
      }
      return send(res, ok)
    }
    send(res, 404, {})
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, {})
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    applied,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
