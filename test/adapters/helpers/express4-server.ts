// A real Express 4 service in its own process, for the test that it stays up after an async route
// behind the proxy rejects: Node ends a process on an unhandled rejection.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express4'
import { evotorErrorHandler, evotorProxy } from '../../../src/adapters/express.js'
import { createUserTokens } from '../../../src/core/auth/user-tokens.js'
import { EvotorError } from '../../../src/core/evotor-error.js'

const tokens = createUserTokens({ secret: process.env.TOKEN_SECRET ?? '' })
const app = express()
app.use('/terminal', evotorProxy({ userTokens: tokens }))
app.get('/terminal/async-evotor-error', async () => {
  await new Promise((resolve) => setTimeout(resolve, 5))
  throw EvotorError.paymentRequired('01-000000000000001')
})
app.get('/terminal/alive', (_req, res) => {
  res.json({ alive: true })
})
app.use(evotorErrorHandler())
const server = createServer(app)
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`)
})
