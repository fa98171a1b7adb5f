// Issue 19: profiles that chain roles resolve natively in defaultChain()'s `profile` link (files
// read with the AWS SDK's @smithy/shared-ini-file-loader, each hop a signed AssumeRole by
// fromAssumeRole), proven side by side with the AWS CLI (botocore): the same config file, the same
// emulator, the same final role. Every bad input the issue lists is a clear CredentialsError
// naming the profile or the field, never a secret.
import { execFile, execFileSync } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { defaultChain, explain } from '@podcreds/chain'
import type { AwsCredentialIdentity } from '@podcreds/core'
import { CredentialsError } from '@podcreds/core'
import { type Emulator, generateTrustPolicy, startEmulator } from '@podcreds/emulator'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rejectionOf } from './support/errors.js'
import { assertNoSecret } from './support/secrets.js'
import type { TempDir } from './support/tempDir.js'
import { tempDir } from './support/tempDir.js'

const run = promisify(execFile)
const POD = 'arn:aws:iam::111122223333:role/podcreds-demo'
const IRSA = 'arn:aws:iam::111122223333:role/podcreds-demo-irsa'
const CROSS = 'arn:aws:iam::444455556666:role/podcreds-demo-cross-account'
const HOP2 = 'arn:aws:iam::777788889999:role/second-hop'
const CANARY = 'canary-static-secret-0123456789abcdef'

function findAws(): boolean {
  try {
    execFileSync('aws', ['--version'], { stdio: 'ignore', timeout: 15_000 })
    return true
  } catch {
    return false
  }
}
const hasAws = findAws()

let emulator: Emulator
let tmp: TempDir
let config: string
beforeAll(async () => {
  emulator = await startEmulator({
    roles: [
      {
        arn: POD,
        trustPolicy: {
          Statement: {
            Effect: 'Allow',
            Principal: { Service: 'pods.eks.amazonaws.com' },
            Action: ['sts:AssumeRole', 'sts:TagSession'],
          },
        },
      },
      {
        arn: IRSA,
        trustPolicy: (ctx) =>
          generateTrustPolicy({
            issuer: ctx.issuerUrl,
            namespace: 'default',
            serviceAccount: 'app',
            accountId: ctx.accountId,
          }),
      },
      {
        arn: CROSS,
        trustPolicy: {
          Statement: { Effect: 'Allow', Principal: { AWS: [POD, IRSA] }, Action: 'sts:AssumeRole' },
        },
      },
      {
        arn: HOP2,
        trustPolicy: { Statement: { Effect: 'Allow', Principal: { AWS: CROSS }, Action: 'sts:AssumeRole' } },
      },
    ],
  })
  tmp = await tempDir('podcreds-profile-chain-')
  config = await tmp.write(
    'config',
    [
      '[profile cross]',
      `role_arn = ${CROSS}`,
      'credential_source = EcsContainer',
      'role_session_name = cross-session',
      '',
      '[profile hop2]',
      `role_arn = ${HOP2}`,
      'source_profile = cross',
      'role_session_name = hop2-session',
      '',
      '[profile irsa]',
      `role_arn = ${IRSA}`,
      `web_identity_token_file = ${emulator.tokenFiles.irsa}`,
      'role_session_name = irsa-session',
      '',
      '[profile irsa-cross]',
      `role_arn = ${CROSS}`,
      'source_profile = irsa',
      'role_session_name = irsa-cross-session',
      '',
      '[profile static]',
      'aws_access_key_id = AKIASTATICKEY0000001',
      `aws_secret_access_key = ${CANARY}`,
      '',
      '[profile from-static]',
      `role_arn = ${CROSS}`,
      'source_profile = static',
      '',
      '[profile missing-source]',
      `role_arn = ${CROSS}`,
      'source_profile = nowhere',
      '',
      '[profile loop-a]',
      `role_arn = ${CROSS}`,
      'source_profile = loop-b',
      '',
      '[profile loop-b]',
      `role_arn = ${HOP2}`,
      'source_profile = loop-a',
      '',
      '[profile bad-source]',
      `role_arn = ${CROSS}`,
      'credential_source = Ec2Metadata',
      '',
      '[profile bad-arn]',
      'role_arn = arn:aws:iam::12:role/x',
      'credential_source = EcsContainer',
      '',
      '[profile too-long]',
      `role_arn = ${CROSS}`,
      'credential_source = EcsContainer',
      'duration_seconds = 7200',
      '',
      '[profile node-role]',
      `role_arn = ${CROSS}`,
      'credential_source = Ec2InstanceMetadata',
      '',
    ].join('\n'),
  )
})
afterAll(async () => {
  await emulator?.close()
  await tmp?.cleanup()
})

/** A pod with Pod Identity (the emulator's env) and a profile selected from our config file. */
function podEnv(profile: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...emulator.env,
    HOME: tmp.dir,
    AWS_CONFIG_FILE: config,
    AWS_SHARED_CREDENTIALS_FILE: join(tmp.dir, 'no-credentials'),
    AWS_PROFILE: profile,
    ...extra,
  }
}

async function callerArn(credentials: AwsCredentialIdentity): Promise<string> {
  const client = new STSClient({ region: 'us-east-1', endpoint: emulator.awsUrl, credentials })
  try {
    return (await client.send(new GetCallerIdentityCommand({}))).Arn ?? ''
  } finally {
    client.destroy()
  }
}

async function ours(profile: string): Promise<string> {
  const provider = defaultChain({ env: podEnv(profile) })
  try {
    return await callerArn(await provider())
  } finally {
    provider.close()
  }
}

describe('defaultChain(): the profile link chains roles natively', () => {
  it.each([
    [
      'cross',
      'credential_source EcsContainer → cross-account',
      'arn:aws:sts::444455556666:assumed-role/podcreds-demo-cross-account/cross-session',
    ],
    [
      'hop2',
      'source_profile → a third account',
      'arn:aws:sts::777788889999:assumed-role/second-hop/hop2-session',
    ],
    [
      'irsa',
      'web_identity_token_file',
      'arn:aws:sts::111122223333:assumed-role/podcreds-demo-irsa/irsa-session',
    ],
    [
      'irsa-cross',
      'web identity → cross-account',
      'arn:aws:sts::444455556666:assumed-role/podcreds-demo-cross-account/irsa-cross-session',
    ],
  ])('profile %s (%s) ends in the expected role', async (profile, _what, arn) => {
    expect(await ours(profile)).toBe(arn)
  })

  it('a credential_process root comes from the SDK fallback’s providers, then the hop is ours', async () => {
    // The process prints credentials the emulator issued (the pod's), as a real helper would print
    // an SSO or vault session.
    const { fromContainer } = await import('@podcreds/container')
    const pod = await fromContainer({ env: emulator.env })()
    const script = await tmp.write(
      'helper.mjs',
      `console.log(${JSON.stringify(JSON.stringify({ Version: 1, AccessKeyId: pod.accessKeyId, SecretAccessKey: pod.secretAccessKey, SessionToken: pod.sessionToken, Expiration: pod.expiration.toISOString() }))})`,
    )
    const processConfig = await tmp.write(
      'process-config',
      [
        '[profile helper]',
        `credential_process = ${JSON.stringify(process.execPath)} ${JSON.stringify(script)}`,
        '[profile via-helper]',
        `role_arn = ${CROSS}`,
        'source_profile = helper',
        'role_session_name = via-helper',
        '',
      ].join('\n'),
    )
    const env = podEnv('via-helper', { AWS_CONFIG_FILE: processConfig })
    const provider = defaultChain({ env, sdkFallback: true })
    const credentials = await provider()
    provider.close()
    expect(await callerArn(credentials)).toBe(
      'arn:aws:sts::444455556666:assumed-role/podcreds-demo-cross-account/via-helper',
    )
    const explanation = await explain({ env, sdkFallback: true, dryRun: true })
    expect(explanation.links[0]!.details['root']).toMatch(/^profile helper through the AWS SDK's providers/)
    // Without the SDK fallback the root cannot be resolved: a clear error, not a silent switch.
    const error = await rejectionOf(defaultChain({ env, sdkFallback: false })())
    expect(error.code).toBe('ERR_INVALID_CONFIG')
    expect(error.message).toMatch(
      /profile helper \(the root of the chain\) is not a role-chaining profile and the sdk link is disabled/,
    )
    assertNoSecret(error, [pod.secretAccessKey, pod.sessionToken ?? ''])
  })

  it('a static-key root signs the first hop (here: a key the emulator never issued, so STS refuses it, secret-free)', async () => {
    const error = await rejectionOf(defaultChain({ env: podEnv('from-static') })())
    expect(error).toBeInstanceOf(CredentialsError)
    expect(error.code).toBe('ERR_STS')
    expect(error.stsCode).toBe('InvalidClientTokenId')
    expect(error.message).toContain('profile from-static')
    assertNoSecret(error, [CANARY])
  })

  it('explain() shows the chain of roles, without a request', async () => {
    const before = emulator.stats()
    const explanation = await explain({ env: podEnv('hop2'), dryRun: true })
    expect(explanation.chosen).toBe('profile')
    const link = explanation.links[0]!
    expect(link.name).toBe('profile')
    expect(link.details).toMatchObject({
      profile: 'hop2',
      profiles: 'hop2 → cross',
      root: 'credential_source EcsContainer',
      roles: `${CROSS} → ${HOP2}`,
    })
    expect(emulator.stats().stsRequests).toBe(before.stsRequests)
    expect(emulator.stats().agentRequests).toBe(before.agentRequests)
  })
})

describe.skipIf(!hasAws)('the same config file with the AWS CLI (botocore): the same final role', () => {
  async function botocore(profile: string): Promise<string> {
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      AWS_PAGER: '',
      ...podEnv(profile),
    }
    const { stdout } = await run(
      'aws',
      ['sts', 'get-caller-identity', '--endpoint-url', emulator.awsUrl, '--output', 'json'],
      { env, timeout: 60_000 },
    )
    return (JSON.parse(stdout) as { Arn: string }).Arn
  }

  it.each(['cross', 'hop2', 'irsa-cross'])('profile %s', async (profile) => {
    const [theirs, mine] = [await botocore(profile), await ours(profile)]
    expect(mine).toBe(theirs)
    expect(mine).toMatch(/:assumed-role\//)
  })
})

describe('profile link bad input: a clear CredentialsError naming the profile or field, never a secret', () => {
  const cases: [string, string, Record<string, string>, string, RegExp][] = [
    [
      'a source_profile no file defines',
      'missing-source',
      {},
      'ERR_INVALID_CONFIG',
      /profile missing-source names source_profile nowhere, which no shared file defines/,
    ],
    [
      'a source_profile cycle',
      'loop-a',
      {},
      'ERR_INVALID_CONFIG',
      /source_profile cycle loop-a → loop-b → loop-a/,
    ],
    [
      'an unknown credential_source',
      'bad-source',
      {},
      'ERR_INVALID_CONFIG',
      /profile bad-source: credential_source must be EcsContainer, Environment, Ec2InstanceMetadata, got "Ec2Metadata"/,
    ],
    [
      'a malformed role_arn',
      'bad-arn',
      {},
      'ERR_INVALID_CONFIG',
      /profile bad-arn: role_arn must be an IAM role ARN/,
    ],
    [
      'duration_seconds over the 1-hour role-chaining cap',
      'too-long',
      {},
      'ERR_INVALID_CONFIG',
      /durationSeconds 7200 exceeds the 3600 s AWS allows for a role-chained session/,
    ],
    [
      'Ec2InstanceMetadata inside Kubernetes (the node role is not allowed there)',
      'node-role',
      { KUBERNETES_SERVICE_HOST: '10.0.0.1' },
      'ERR_INVALID_CONFIG',
      /profile node-role: .*imds/,
    ],
  ]
  it.each(cases)('%s', async (_name, profile, extra, code, message) => {
    const before = emulator.stats().stsRequests
    const error = await rejectionOf(defaultChain({ env: podEnv(profile, extra) })())
    expect(error).toBeInstanceOf(CredentialsError)
    expect(error.code).toBe(code)
    expect(error.message).toMatch(message)
    expect(error.tryNextLink).toBe(false)
    expect(emulator.stats().stsRequests).toBe(before)
    assertNoSecret(error, [CANARY])
  })

  it('an unreadable config file (a directory) is ERR_INVALID_CONFIG naming the file', async () => {
    const dir = join(tmp.dir, 'config-is-a-directory')
    await mkdir(dir, { recursive: true })
    const error = await rejectionOf(defaultChain({ env: podEnv('cross', { AWS_CONFIG_FILE: dir }) })())
    expect(error.code).toBe('ERR_INVALID_CONFIG')
    expect(error.message).toContain(`profile cross: the shared file ${dir} cannot be read (EISDIR)`)
  })

  it('a malformed config file (the AWS SDK parser rejects it) is ERR_INVALID_CONFIG naming the file', async () => {
    const file = await tmp.write(
      'malformed',
      `[profile __proto__]\nrole_arn = ${CROSS}\n[profile cross]\nrole_arn = ${CROSS}\n`,
    )
    const error = await rejectionOf(defaultChain({ env: podEnv('cross', { AWS_CONFIG_FILE: file }) })())
    expect(error.code).toBe('ERR_INVALID_CONFIG')
    expect(error.message).toContain(`the shared file ${file} is malformed`)
  })

  it('a missing config file: the profile link says so (naming the profile and the files), and the pod sources follow, as the AWS SDK for JS does', async () => {
    const env = podEnv('cross', { AWS_CONFIG_FILE: join(tmp.dir, 'nope') })
    const explanation = await explain({ env, dryRun: true })
    expect(explanation.links[0]).toMatchObject({ name: 'profile', status: 'skipped' })
    expect(explanation.links[0]!.reason).toMatch(
      /^profile cross \(AWS_PROFILE\) is in no shared config file \(.*nope/,
    )
    expect(explanation.chosen).toBe('container')
  })
})
