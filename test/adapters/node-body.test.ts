import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readNodeBody } from '../../src/adapters/node-body.js'
import { isEvotorError } from '../../src/core/evotor-error.js'

let server: Server
let port: number

beforeAll(async () => {
  server = createServer((req, res) => {
    readNodeBody(req, 1024, 200).then(
      (body) => res.writeHead(200).end(String(body.byteLength)),
      (error) => {
        const status = isEvotorError(error) ? error.status : 500
        res.writeHead(status, isEvotorError(error) ? { ...error.headers } : {}).end('{}')
      },
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as AddressInfo).port
})

afterAll(() => new Promise((resolve) => server.close(resolve)))

/** Sends raw request bytes and resolves with the first response line and the time it took. */
function rawRequest(head: string): Promise<{ statusLine: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now()
    const socket = connect(port, '127.0.0.1', () => socket.write(head))
    let data = ''
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1')
      if (data.includes('\r\n')) {
        resolve({ statusLine: data.split('\r\n', 1)[0] ?? '', ms: Date.now() - started })
        socket.destroy()
      }
    })
    socket.on('error', reject)
  })
}

describe('readNodeBody', () => {
  it('answers 413 to a huge declared body that never arrives, without waiting for the request timeout', async () => {
    const { statusLine, ms } = await rawRequest(
      'POST /x HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 104857600\r\n\r\n',
    )
    expect(statusLine).toBe('HTTP/1.1 413 Payload Too Large')
    expect(ms).toBeLessThan(5000)
  })

  it('answers 408 to a body that does not arrive within the timeout', async () => {
    const { statusLine } = await rawRequest(
      'POST /x HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{"a":',
    )
    expect(statusLine).toBe('HTTP/1.1 408 Request Timeout')
  })

  it('reads a body within the limit', async () => {
    const body = '{"a":"б"}'
    const { statusLine } = await rawRequest(
      `POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    )
    expect(statusLine).toBe('HTTP/1.1 200 OK')
  })
})
