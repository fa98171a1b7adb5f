// The emulator against real AWS SDK v3 clients: the SDK's own credential providers get
// credentials from the emulated agent and STS, and S3/STS clients pass its SigV4 check.
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3'
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { fromHttp, fromTokenFile } from '@aws-sdk/credential-providers'
import type { Clock } from '@podcreds/core'
import { type Emulator, startEmulator } from '@podcreds/emulator'
import type { AwsCredentialIdentity } from '@smithy/types'
import { afterEach, describe, expect, it } from 'vitest'

interface ManualClock extends Clock {
  advance(ms: number): void
}

/** Time moves only on `advance`; the emulator's expiry checks follow it. */
function manualClock(start = Date.now()): ManualClock {
  let now = start
  return {
    now: () => now,
    setTimeout: () => undefined,
    clearTimeout: () => undefined,
    advance(ms) {
      now += ms
    },
  }
}

function clients(
  emulator: Emulator,
  credentials: AwsCredentialIdentity | (() => Promise<AwsCredentialIdentity>),
) {
  const common = { region: emulator.region, endpoint: emulator.awsUrl, credentials, maxAttempts: 1 }
  return { s3: new S3Client({ ...common, forcePathStyle: true }), sts: new STSClient(common) }
}

describe('emulator with the AWS SDK for JavaScript v3', () => {
  let emulator: Emulator | undefined
  afterEach(async () => {
    await emulator?.close()
    emulator = undefined
  })

  it('Pod Identity: the SDK’s fromHttp gets agent credentials that S3 ListBuckets and STS GetCallerIdentity accept', async () => {
    emulator = await startEmulator()
    const provider = fromHttp({
      awsContainerCredentialsFullUri: emulator.env.AWS_CONTAINER_CREDENTIALS_FULL_URI,
      awsContainerAuthorizationTokenFile: emulator.env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE,
    })
    const { s3, sts } = clients(emulator, provider)

    const buckets = await s3.send(new ListBucketsCommand({}))
    const identity = await sts.send(new GetCallerIdentityCommand({}))

    expect(buckets.Buckets?.map((bucket) => bucket.Name)).toEqual(['podcreds-demo'])
    expect(identity.Account).toBe('111122223333')
    expect(identity.Arn).toMatch(/^arn:aws:sts::111122223333:assumed-role\/podcreds-demo\/eks-podcreds-/)
    expect(emulator.stats().agentRequests).toBeGreaterThanOrEqual(1)
  })

  it('IRSA: the SDK’s fromTokenFile assumes the role through the emulated STS, and S3 accepts the credentials', async () => {
    emulator = await startEmulator()
    const provider = fromTokenFile({
      webIdentityTokenFile: emulator.irsaEnv.AWS_WEB_IDENTITY_TOKEN_FILE,
      roleArn: emulator.irsaEnv.AWS_ROLE_ARN,
      roleSessionName: 'sdk-test',
      clientConfig: { region: emulator.region, endpoint: emulator.stsUrl },
    })
    const { s3, sts } = clients(emulator, provider)

    const buckets = await s3.send(new ListBucketsCommand({}))
    const identity = await sts.send(new GetCallerIdentityCommand({}))

    expect(buckets.Owner?.ID).toBe('111122223333')
    expect(identity.Arn).toBe('arn:aws:sts::111122223333:assumed-role/podcreds-demo-irsa/sdk-test')
    // Each client memoizes the provider on its own: one AssumeRoleWithWebIdentity per client.
    expect(emulator.stats().stsRequests).toBe(2)
  })

  it('rejects credentials after they expire on the emulator’s clock: ExpiredToken from S3 and STS', async () => {
    const clock = manualClock()
    emulator = await startEmulator({ clock, credentialLifetimeMs: 900_000 })
    const credentials = await fromHttp({
      awsContainerCredentialsFullUri: emulator.env.AWS_CONTAINER_CREDENTIALS_FULL_URI,
      awsContainerAuthorizationTokenFile: emulator.env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE,
    })()
    // Static credentials: the SDK keeps signing with them after they expired.
    const { s3, sts } = clients(emulator, {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      ...(credentials.sessionToken === undefined ? {} : { sessionToken: credentials.sessionToken }),
    })
    await expect(s3.send(new ListBucketsCommand({}))).resolves.toBeDefined()

    clock.advance(900_000)

    const s3Error = await s3.send(new ListBucketsCommand({})).catch((error: unknown) => error)
    const stsError = await sts.send(new GetCallerIdentityCommand({})).catch((error: unknown) => error)
    expect(s3Error).toMatchObject({ name: 'ExpiredToken', $metadata: { httpStatusCode: 400 } })
    expect(stsError).toMatchObject({ name: 'ExpiredToken', $metadata: { httpStatusCode: 403 } })
    expect(String((s3Error as Error).message)).not.toContain(credentials.secretAccessKey)
  })

  it('rejects a wrong secret (SignatureDoesNotMatch) and a key it never issued (InvalidAccessKeyId, InvalidClientTokenId)', async () => {
    emulator = await startEmulator()
    const good = await fromHttp({
      awsContainerCredentialsFullUri: emulator.env.AWS_CONTAINER_CREDENTIALS_FULL_URI,
      awsContainerAuthorizationTokenFile: emulator.env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE,
    })()
    const wrongSecret = clients(emulator, {
      ...good,
      secretAccessKey: 'SECRETCANARYwrongwrongwrongwrongwrong0000',
    })
    const stranger = clients(emulator, {
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      secretAccessKey: 'x'.repeat(40),
    })

    const badSignature = await wrongSecret.s3
      .send(new ListBucketsCommand({}))
      .catch((error: unknown) => error)
    const unknownS3 = await stranger.s3.send(new ListBucketsCommand({})).catch((error: unknown) => error)
    const unknownSts = await stranger.sts
      .send(new GetCallerIdentityCommand({}))
      .catch((error: unknown) => error)

    expect(badSignature).toMatchObject({ name: 'SignatureDoesNotMatch', $metadata: { httpStatusCode: 403 } })
    expect(unknownS3).toMatchObject({ name: 'InvalidAccessKeyId', $metadata: { httpStatusCode: 403 } })
    expect(unknownSts).toMatchObject({ name: 'InvalidClientTokenId', $metadata: { httpStatusCode: 403 } })
    expect(JSON.stringify(badSignature)).not.toContain('SECRETCANARY')
  })
})
