// The curl walkthrough of the starter's README, as the README gives it: the `sh` blocks between
// `<!-- walkthrough` and `<!-- /walkthrough -->`, run in order by bash against a running service.
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const exec = promisify(execFile)

/** The walkthrough's shell code, block after block. */
export function walkthroughScript(readme: string): string {
  const start = readme.indexOf('<!-- walkthrough')
  const end = readme.indexOf('<!-- /walkthrough -->')
  if (start < 0 || end < start) throw new Error('the README has no walkthrough markers')
  const blocks = [...readme.slice(start, end).matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? '')
  if (blocks.length === 0) throw new Error('the walkthrough has no sh blocks')
  return blocks.join('\n')
}

/** One curl call of the walkthrough, as the service answered it. */
export interface WalkCall {
  method: string
  url: string
  status: number
  body: string
}

// Wraps curl: every call's status and body are recorded (in order), and the body still goes to
// stdout, so `TOKEN=$(curl … | node …)` works as in a terminal.
const PRELUDE = `set -eo pipefail
curl() {
  local n body code method=GET url='' prev=''
  n=$(( $(wc -l < "$WALK_DIR/log") + 1 ))
  body="$WALK_DIR/$n.body"
  for a in "$@"; do
    case "$prev" in -X) method=$a ;; esac
    case "$a" in http://*|https://*) url=$a ;; esac
    prev=$a
  done
  case " $* " in *" -G "*) method=GET ;; esac
  code=$(command curl -o "$body" -w '%{http_code}' "$@")
  printf '%s %s %s\\n' "$code" "$method" "$url" >> "$WALK_DIR/log"
  cat "$body"
}
`

/** Runs the script with bash (`env` adds PORT, APP_TOKEN); returns every curl call. */
export async function runWalkthrough(script: string, env: Record<string, string>): Promise<WalkCall[]> {
  const dir = mkdtempSync(join(tmpdir(), 'walkthrough-'))
  try {
    writeFileSync(join(dir, 'log'), '')
    writeFileSync(join(dir, 'walk.sh'), `${PRELUDE}\n${script}\n`)
    try {
      await exec('bash', [join(dir, 'walk.sh')], { env: { ...env, WALK_DIR: dir }, timeout: 120_000 })
    } catch (error) {
      const e = error as Error & { stdout?: string; stderr?: string }
      throw new Error(`the walkthrough failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`)
    }
    return readFileSync(join(dir, 'log'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line, index) => {
        const [status = '', method = '', url = ''] = line.split(' ')
        return {
          method,
          url,
          status: Number(status),
          body: readFileSync(join(dir, `${index + 1}.body`), 'utf8'),
        }
      })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
