import { connect } from 'node:net'

/** An answer read off a raw socket. */
export interface RawAnswer {
  status: number
  /** The status line as sent (`HTTP/1.1 200 OK`). */
  statusLine: string
  /** Header names lower-cased. */
  headers: Record<string, string>
  body: string
  /** Whether the server ended the connection after the answer. */
  closed: boolean
}

export interface RawOptions {
  /** Written after the head, one piece every `everyMs`, until the server ends the connection. */
  trickle?: { piece: string; everyMs: number }
  /** Wait for the server to end the connection after the answer (else hang up once it is read). */
  awaitClose?: boolean
}

function parse(data: Buffer): { answer: Omit<RawAnswer, 'closed'>; complete: boolean } | undefined {
  const end = data.indexOf('\r\n\r\n')
  if (end < 0) return undefined
  const [statusLine = '', ...lines] = data.subarray(0, end).toString('latin1').split('\r\n')
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  const length = Number(headers['content-length'] ?? 0)
  const body = data.subarray(end + 4)
  return {
    answer: { status: Number(statusLine.split(' ')[1]), statusLine, headers, body: body.toString('utf8') },
    complete: body.length >= length,
  }
}

/**
 * Sends `head` (request line and headers, any method, no body rules) over a plain socket and reads
 * the answer. Rejects on a socket error (a reset instead of the answer) or when no answer comes.
 */
export function rawRequest(url: string, head: string, options: RawOptions = {}): Promise<RawAnswer> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(head))
    let data = Buffer.alloc(0)
    let answer: Omit<RawAnswer, 'closed'> | undefined
    const trickle =
      options.trickle &&
      setInterval(() => {
        if (socket.writable) socket.write(options.trickle?.piece ?? '')
      }, options.trickle.everyMs)
    const finish = (closed: boolean): void => {
      clearInterval(trickle)
      socket.destroy()
      if (answer === undefined) reject(new Error(`no answer; got ${JSON.stringify(data.toString('latin1'))}`))
      else resolve({ ...answer, closed })
    }
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk])
      const parsed = parse(data)
      if (parsed?.complete !== true) return
      answer = parsed.answer
      if (options.awaitClose !== true) finish(false)
    })
    socket.on('end', () => finish(true))
    socket.on('error', (error) => {
      clearInterval(trickle)
      reject(error)
    })
  })
}

/** What a client that writes its whole upload before it looks at the answer gets back. */
export interface UploadResult {
  answer: Omit<RawAnswer, 'closed'> | undefined
  /** Bytes of the body written before the connection ended. */
  written: number
  /** A socket error (EPIPE, ECONNRESET: the answer was lost to a reset), if any. */
  error: Error | undefined
}

/**
 * Sends `head` and then `size` bytes chunked (`Transfer-Encoding: chunked`), as fast as the socket takes
 * them and without stopping when an answer arrives, as a naive client does; the answer is read after.
 */
export function uploadChunked(url: string, head: string, size: number): Promise<UploadResult> {
  const { hostname, port } = new URL(url)
  const piece = Buffer.concat([Buffer.from('10000\r\n'), Buffer.alloc(0x10000, 0x20), Buffer.from('\r\n')])
  return new Promise((resolve) => {
    let received = Buffer.alloc(0)
    let written = 0
    let error: Error | undefined
    // Half-open, as a client in C is: the server's FIN after its answer does not stop the upload.
    const socket = connect({ port: Number(port), host: hostname, allowHalfOpen: true })
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk])
    })
    socket.on('error', (e) => {
      error ??= e
    })
    socket.on('close', () => resolve({ answer: parse(received)?.answer, written, error }))
    const pump = async (): Promise<void> => {
      socket.write(head)
      for (; written < size && !socket.destroyed; written += 0x10000) {
        if (!socket.write(piece)) {
          await new Promise<void>((next) => {
            const go = (): void => {
              socket.off('drain', go)
              socket.off('close', go)
              next()
            }
            socket.once('drain', go)
            socket.once('close', go)
          })
        }
      }
      if (!socket.destroyed) socket.end('0\r\n\r\n')
    }
    socket.once('connect', () => void pump())
  })
}
