import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** The built CLI, as users run it. The test command builds before vitest runs. */
export const BIN: string = fileURLToPath(new URL('../dist/bin.js', import.meta.url))

export interface RunResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs `podcreds …` in a child process with exactly `env` (plus PATH), and optional stdin. */
export function run(
  args: string[],
  env: Record<string, string | undefined> = {},
  stdin?: string,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
    })
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(stdin)
  })
}

/** An unsigned JWT with the given claims: enough for decode/inspect, which do not verify. */
export function fakeJwt(claims: Record<string, unknown>): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${part({ alg: 'RS256', kid: 'test-key' })}.${part(claims)}.${Buffer.from('signature').toString('base64url')}`
}
