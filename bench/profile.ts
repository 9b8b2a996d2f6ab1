import { readFileSync } from 'node:fs'

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
}

interface ProfileNode {
  id: number
  callFrame: CallFrame
  children?: number[]
}

interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

/** One function of a CPU profile. */
export interface HotSpot {
  /** `name (file:line)`. */
  where: string
  /** Share of all samples spent in the function itself, %. */
  self: number
  /** Share of samples with the function on the stack, %. */
  total: number
}

function label(frame: CallFrame): string {
  const file = frame.url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, 'node_modules/')
  const short = file.replace(/^.*\/(dist|src|bench)\//, '$1/')
  return `${frame.functionName || '(anonymous)'} (${short || 'native'}:${frame.lineNumber + 1})`
}

/**
 * Self and total time per function of a `node --cpu-prof` profile, highest self time first.
 * `filter` keeps only functions whose location matches (e.g. `/dist\//` for the library).
 */
export function hotSpots(path: string, options: { top?: number; filter?: RegExp } = {}): HotSpot[] {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const self = new Map<string, number>()
  const total = new Map<string, number>()
  let all = 0
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0
    const node = byId.get(id)
    if (node === undefined) return
    if (node.callFrame.functionName === '(idle)') return
    all += dt
    const own = label(node.callFrame)
    self.set(own, (self.get(own) ?? 0) + dt)
    const seen = new Set<string>()
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur)?.callFrame
      if (frame === undefined) break
      const name = label(frame)
      if (seen.has(name)) continue
      seen.add(name)
      total.set(name, (total.get(name) ?? 0) + dt)
    }
  })
  return [...total.keys()]
    .filter((where) => options.filter === undefined || options.filter.test(where))
    .map((where) => ({
      where,
      self: ((self.get(where) ?? 0) / all) * 100,
      total: ((total.get(where) ?? 0) / all) * 100,
    }))
    .sort((a, b) => b.self - a.self)
    .slice(0, options.top ?? 15)
}
