// The outbound client (issue #12), in a child process started with --expose-gc:
// 1. overhead: `client.stores.get(id)` of the BUILT package against a bare `fetch` + `json()` of
//    the same fake-cloud endpoint, interleaved rounds, median time per request;
// 2. memory: heap while listing 10,000 documents over 100 pages with `for await`, after forced GC
//    at checkpoints, against holding them all (`toArray()`) for contrast.
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

const DIST = new URL('../dist/', import.meta.url)
const MB = 1024 * 1024

export interface ClientBenchResult {
  requestsPerRound: number
  rounds: number
  bareMsPerRequest: number
  clientMsPerRequest: number
  /** Client time per request / bare fetch time per request (1.00 = no overhead). */
  overheadRatio: number
  documents: number
  pages: number
  /** Heap used after forced GC at checkpoints while iterating, MB. */
  heap: Array<{ documents: number; heapUsedMb: number }>
  /** Heap growth from the 1,000th to the 10,000th document, MB. */
  heapGrowthMb: number
  /** Heap used with all 10,000 documents held (`toArray()`), MB. */
  heldAllMb: number
}

type ClientLib = typeof import('../src/client/index.js')
type TestingLib = typeof import('../src/testing/index.js')

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN
}

async function measure(quick: boolean): Promise<ClientBenchResult> {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error('bench/client: run with --expose-gc')
  const { createEvotorClient } = (await import(new URL('client.js', DIST).href)) as ClientLib
  const testing = (await import(new URL('testing.js', DIST).href)) as TestingLib
  const cloud = await testing.createFakeEvotorCloud({ pageSize: 100 })
  try {
    const { userId, token } = cloud.addUser()
    const store = testing.buildCloudStore()
    const device = testing.buildCloudDevice({ storeId: store.id })
    const documents = Array.from({ length: 10_000 }, () =>
      testing.buildCloudDocument({ storeId: store.id, deviceId: device.id }),
    )
    cloud.seed(userId, { stores: [store], devices: [device], documents })
    documents.length = 0

    // 1. Overhead on one endpoint. The fake keeps a request log; it is cleared between rounds.
    const client = createEvotorClient({ token, baseUrl: cloud.url })
    const url = `${cloud.url}/stores/${store.id}`
    const headers = { accept: 'application/vnd.evotor.v2+json', authorization: `Bearer ${token}` }
    const bare = async (): Promise<void> => {
      const response = await fetch(url, { headers })
      if (!response.ok) throw new Error(`bare fetch: ${response.status}`)
      await response.json()
    }
    const viaClient = async (): Promise<void> => {
      await client.stores.get(store.id)
    }
    const perRound = quick ? 300 : 2000
    const rounds = quick ? 2 : 6
    const time = async (fn: () => Promise<void>): Promise<number> => {
      const started = performance.now()
      for (let i = 0; i < perRound; i++) await fn()
      return (performance.now() - started) / perRound
    }
    await time(bare)
    await time(viaClient)
    const bareTimes: number[] = []
    const clientTimes: number[] = []
    for (let round = 0; round < rounds; round++) {
      cloud.requests.length = 0
      bareTimes.push(await time(bare))
      clientTimes.push(await time(viaClient))
    }
    cloud.requests.length = 0

    // 2. Heap over 100 pages.
    const heap: ClientBenchResult['heap'] = []
    let count = 0
    let pages = 0
    let checksum = 0
    for await (const page of client.documents.list(store.id).pages()) {
      pages += 1
      for (const doc of page.items) {
        count += 1
        checksum += doc.id.length
        if (count === 1_000 || count % 2_500 === 0) {
          gc()
          gc()
          heap.push({ documents: count, heapUsedMb: process.memoryUsage().heapUsed / MB })
        }
      }
    }
    if (count !== 10_000 || checksum === 0) throw new Error(`bench/client: listed ${count} documents`)
    const all = await client.documents.list(store.id).toArray()
    gc()
    gc()
    const heldAllMb = process.memoryUsage().heapUsed / MB
    if (all.length !== 10_000) throw new Error('bench/client: toArray')
    const first = heap[0]!
    const last = heap[heap.length - 1]!
    const bareMs = median(bareTimes)
    const clientMs = median(clientTimes)
    return {
      requestsPerRound: perRound,
      rounds,
      bareMsPerRequest: bareMs,
      clientMsPerRequest: clientMs,
      overheadRatio: clientMs / bareMs,
      documents: count,
      pages,
      heap,
      heapGrowthMb: last.heapUsedMb - first.heapUsedMb,
      heldAllMb,
    }
  } finally {
    await cloud.close()
  }
}

/** Runs the client benchmark in a child process with `--expose-gc`. */
export async function runClient(quick: boolean): Promise<ClientBenchResult> {
  const child = fork(fileURLToPath(import.meta.url), [quick ? 'quick' : 'full'], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const [message] = (await once(child, 'message')) as [{ result?: ClientBenchResult; error?: string }]
  await once(child, 'exit')
  if (message.result === undefined) throw new Error(`bench/client: ${message.error}`)
  return message.result
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.send !== undefined) {
  measure(process.argv[2] === 'quick').then(
    (result) => process.send?.({ result }, () => process.exit(0)),
    (error: unknown) => process.send?.({ error: String(error) }, () => process.exit(1)),
  )
}
