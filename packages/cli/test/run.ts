import type { RunResult } from '../../../test/support/subprocess.js'
import { CLI_BIN, runCli } from '../../../test/support/subprocess.js'

/** The built CLI, as users run it. The test command builds before vitest runs. */
export const BIN: string = CLI_BIN

/** Runs `podcreds …` in a child process with exactly `env` (plus PATH), and optional stdin. */
export function run(
  args: string[],
  env: Record<string, string | undefined> = {},
  stdin?: string,
): Promise<RunResult> {
  return runCli(args, env, { pipeStdin: true, stdin })
}

/** An unsigned JWT with the given claims: enough for decode/inspect, which do not verify. */
export function fakeJwt(claims: Record<string, unknown>): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${part({ alg: 'RS256', kid: 'test-key' })}.${part(claims)}.${Buffer.from('signature').toString('base64url')}`
}
