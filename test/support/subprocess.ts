// Test support, shared by every package's tests and the end-to-end and hardening suites (import it
// by relative path; it is not a package): running `node` (the built CLI, or a script) in a child
// process with exactly the environment a test gives, collecting its output.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { buildPackage, bundlesAreFresh } from './build.js'

/**
 * The built CLI, as users run it (`pnpm build` builds it; the test script builds first). It is a
 * bundle (scripts/bundle.mjs): `npx tsc -b` alone does not update it, so {@link runCli} rebuilds
 * it first when any package's src/ is newer than its bundle.
 */
export const CLI_BIN: string = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url))

let cliChecked = false

function ensureCliBuilt(): void {
  if (cliChecked) return
  buildPackage(fileURLToPath(new URL('../../packages/cli', import.meta.url)), bundlesAreFresh)
  cliChecked = true
}

export interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** Whether `deadlineMs` passed and the child was killed. */
  timedOut: boolean
}

export interface RunOptions {
  /** The child's whole environment (nothing is inherited, not even PATH). */
  env?: NodeJS.ProcessEnv
  /** Written to the child's stdin, which is then closed; without it stdin is /dev/null. */
  stdin?: string
  /** Pipe stdin and close it at once, even without `stdin` text (as a shell pipeline would). */
  pipeStdin?: boolean
  cwd?: string
  /** Kill the child (SIGKILL) when it has not exited by then. Default: no deadline. */
  deadlineMs?: number
}

/** The network guard for a child `node` (issue 17): test/support/networkGuard.mjs, by --import. */
export const NETWORK_GUARD_IMPORT: string = `--import=${new URL('./networkGuard.mjs', import.meta.url).href}`

/** `env` plus `NODE_OPTIONS` loading the network guard (before any NODE_OPTIONS the test sets). */
export function guardedEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const own = env.NODE_OPTIONS
  return {
    ...env,
    NODE_OPTIONS: own === undefined || own === '' ? NETWORK_GUARD_IMPORT : `${NETWORK_GUARD_IMPORT} ${own}`,
  }
}

/** Runs `node ...args`; resolves once it exited and its pipes are drained ('close'). */
export function runNode(args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const piped = options.stdin !== undefined || options.pipeStdin === true
    const child = spawn(process.execPath, args, {
      env: guardedEnv(options.env ?? {}),
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      stdio: [piped ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString()
    })
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    let timedOut = false
    const killer =
      options.deadlineMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true
            child.kill('SIGKILL')
          }, options.deadlineMs)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(killer)
      resolve({ code, signal, stdout, stderr, timedOut })
    })
    child.stdin?.end(options.stdin)
  })
}

/**
 * Runs the built `podcreds` CLI with `env` plus PATH (and the AWS SDK's Node-version warning off),
 * as a user would.
 */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  options: Omit<RunOptions, 'env'> = {},
): Promise<RunResult> {
  ensureCliBuilt()
  return runNode([CLI_BIN, ...args], {
    ...options,
    env: { PATH: process.env.PATH, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
  })
}
