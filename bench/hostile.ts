// Hostile bodies (issue "Tenant isolation and hostile input"): the time to refuse a
// 1,000,000-element array (and a receipt holding one), and the longest wait of a cheap request
// sent every 2 ms to the same server meanwhile. The server runs in a child process.
import { fork } from 'node:child_process'
import { loadLib, TOKEN_SECRET, USER_ID } from './fixtures.js'

export interface HostileResult {
  body: string
  bytes: number
  status: number
  answerBytes: number
  refuseMs: number
  /** Longest time a `GET /ping` sent during the big request waited for its answer. */
  worstStallMs: number
  pings: number
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function once(url: string, token: string, name: string, path: string, body: string) {
  let running = true
  let worst = 0
  let pings = 0
  const pinger = (async () => {
    while (running) {
      const started = performance.now()
      await (await fetch(`${url}/ping`)).text()
      worst = Math.max(worst, performance.now() - started)
      pings++
      await sleep(2)
    }
  })()
  await sleep(20)
  const started = performance.now()
  const res = await fetch(`${url}${path}`, {
    method: path.includes('stores') ? 'PUT' : 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body,
  })
  const text = await res.text()
  const refuseMs = performance.now() - started
  running = false
  await pinger
  return {
    body: name,
    bytes: body.length,
    status: res.status,
    answerBytes: text.length,
    refuseMs,
    worstStallMs: worst,
    pings,
  }
}

export async function runHostile(rounds: number, log: (line: string) => void): Promise<HostileResult[]> {
  const child = fork(new URL('./hostile-server.ts', import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  try {
    const port = await new Promise<number>((resolve) =>
      child.once('message', (m: { port: number }) => resolve(m.port)),
    )
    const url = `http://127.0.0.1:${port}`
    const token = await (await loadLib()).createUserTokens({ secret: TOKEN_SECRET }).issue(USER_ID)
    const million = `[${new Array(1_000_000).fill('1').join(',')}]`
    const inner = `{"id":"e","userId":"${USER_ID}","data":{"id":"r","items":${million}}}`
    const cases: Array<[string, string, string]> = [
      ['PUT stores: 1,000,000 numbers', '/api/v1/inventories/stores', million],
      ['POST receipts: data.items of 1,000,000', '/api/v2/receipts', inner],
    ]
    const out: HostileResult[] = []
    for (const [name, path, body] of cases) {
      const runs: HostileResult[] = []
      for (let i = 0; i < rounds; i++) runs.push(await once(url, token, name, path, body))
      runs.sort((a, b) => a.refuseMs - b.refuseMs)
      const median = runs[Math.floor(runs.length / 2)] as HostileResult
      log(
        `  ${name}: ${median.status} in ${median.refuseMs.toFixed(0)} ms, worst ping ${median.worstStallMs.toFixed(0)} ms`,
      )
      out.push(median)
    }
    return out
  } finally {
    child.kill()
  }
}
