// A second, independent SDK accepts the emulator: the machine's AWS CLI (botocore) gets
// credentials from the emulated Pod Identity agent (FULL_URI + token file) and through the
// emulated STS (IRSA via AWS_ENDPOINT_URL_STS), and passes the emulator's SigV4 check.
import { execFile, execFileSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { type Emulator, startEmulator } from '@podcreds/emulator'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)

function findAws(): string | undefined {
  try {
    return execFileSync('aws', ['--version'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 15_000,
    }).trim()
  } catch {
    return undefined
  }
}
const awsVersion = findAws()
const hasAws = awsVersion !== undefined
if (!hasAws) console.warn('emulator-awscli: skipped, the `aws` CLI is not on PATH')

describe.skipIf(!hasAws)('emulator with the AWS CLI (botocore)', () => {
  let emulator: Emulator
  let home: string
  beforeAll(async () => {
    emulator = await startEmulator()
    home = await mkdtemp(join(tmpdir(), 'podcreds-awscli-'))
  })
  afterAll(async () => {
    await emulator?.close()
    if (home !== undefined) await rm(home, { recursive: true, force: true })
  })

  /** An explicit environment: nothing of the real user's AWS setup leaks into the child. */
  function childEnv(pod: Readonly<Record<string, string>>): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: home,
      AWS_CONFIG_FILE: join(home, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-credentials'),
      AWS_PAGER: '',
      ...pod,
    }
  }

  async function callerIdentity(pod: Readonly<Record<string, string>>): Promise<Record<string, string>> {
    const { stdout } = await run(
      'aws',
      ['sts', 'get-caller-identity', '--endpoint-url', emulator.awsUrl, '--output', 'json'],
      { env: childEnv(pod), timeout: 30_000 },
    )
    return JSON.parse(stdout) as Record<string, string>
  }

  it('Pod Identity: gets credentials from the agent and passes the SigV4 check', async () => {
    const before = emulator.stats().agentRequests
    const identity = await callerIdentity(emulator.env)
    expect(identity.Account).toBe('111122223333')
    expect(identity.Arn).toMatch(/^arn:aws:sts::111122223333:assumed-role\/podcreds-demo\/eks-podcreds-/)
    expect(emulator.stats().agentRequests).toBe(before + 1)
  })

  it('IRSA: assumes the role through AWS_ENDPOINT_URL_STS and passes the SigV4 check', async () => {
    const before = emulator.stats().stsRequests
    const identity = await callerIdentity(emulator.irsaEnv)
    expect(identity.Arn).toMatch(
      /^arn:aws:sts::111122223333:assumed-role\/podcreds-demo-irsa\/botocore-session-\d+$/,
    )
    expect(emulator.stats().stsRequests).toBe(before + 1)
  })
})
