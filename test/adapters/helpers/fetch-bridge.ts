import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'

/** The request body as a web stream; cancelling it drains the rest instead of destroying the socket. */
function bodyStream(req: IncomingMessage): ReadableStream<Uint8Array> {
  let open = true
  return new ReadableStream<Uint8Array>({
    start(controller) {
      req.on('data', (chunk: Buffer) => {
        if (!open) return
        controller.enqueue(new Uint8Array(chunk))
        if ((controller.desiredSize ?? 0) <= 0) req.pause()
      })
      req.once('end', () => {
        if (open) controller.close()
        open = false
      })
      req.once('error', (error) => {
        if (open) controller.error(error)
        open = false
      })
      req.pause()
    },
    pull() {
      req.resume()
    },
    cancel() {
      open = false
      req.resume()
    },
  })
}

const FORBIDDEN_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK'])

/** A minimal node:http -> Fetch `Request`/`Response` bridge, like the ones Hono or Next.js use. */
export function toNodeListener(handler: (request: Request) => Response | Promise<Response>): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    const headers = new Headers()
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      headers.append(req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string)
    }
    const method = req.method ?? 'GET'
    const forbidden = FORBIDDEN_METHODS.has(method)
    const hasBody = method !== 'GET' && method !== 'HEAD' && !forbidden
    const request = new Request(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, {
      method: forbidden ? 'GET' : method,
      headers,
      body: hasBody ? bodyStream(req) : null,
      ...(hasBody ? { duplex: 'half' } : {}),
    } as RequestInit)
    // `new Request` refuses these methods; @hono/node-server (a lazily built request object) and Bun
    // still hand them to the handler with their real method, and so does this bridge.
    if (forbidden) Object.defineProperty(request, 'method', { value: method })
    // As Fetch runtimes take a handler's answer: a Response or a promise of one.
    Promise.resolve(handler(request))
      .then(async (response) => {
        res.statusCode = response.status
        response.headers.forEach((value, name) => {
          res.setHeader(name, value)
        })
        const reader = response.body?.getReader()
        for (let next = await reader?.read(); next !== undefined && !next.done; next = await reader?.read()) {
          res.write(next.value)
        }
        res.end()
      })
      .catch((error: unknown) => {
        res.statusCode = 500
        res.end(`bridge: ${String(error)}`)
      })
  }
}
