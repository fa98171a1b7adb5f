// End to end: real AWS SDK v3 clients (@aws-sdk/client-s3, @aws-sdk/client-sts) whose requests go
// to the emulator's SigV4-verifying AWS endpoint, which answers only for credentials the emulator
// issued and that have not expired (issue 8, "@podcreds/chain"). Nothing here talks to AWS.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import type { PutObjectCommandInput } from '@aws-sdk/client-s3'
import { ListBucketsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { createCredentialChain, fromIni } from '@aws-sdk/credential-providers'
import { chain, credentialsPlugin, defaultChain, explain, fromEnv } from '@podcreds/chain'
import { fromContainer } from '@podcreds/container'
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, Clock } from '@podcreds/core'
import { CredentialsError, systemClock } from '@podcreds/core'
import type { Emulator, EmulatorOptions } from '@podcreds/emulator'
import { startEmulator } from '@podcreds/emulator'
import type { RefreshingProvider } from '@podcreds/refresh'
import type { FinalizeHandler, FinalizeHandlerArguments, MetadataBearer } from '@smithy/types'
import { afterEach, describe, expect, it } from 'vitest'

const REGION = 'us-east-1'

/** Everything a test opened, closed in afterEach. */
const open: { close(): unknown }[] = []
const toClose = <T extends { close(): unknown }>(value: T): T => {
  open.push(value)
  return value
}

afterEach(async () => {
  for (const value of open.splice(0).reverse()) await value.close()
})

async function emulator(options: EmulatorOptions = {}): Promise<Emulator> {
  return toClose(await startEmulator(options))
}

function provider(
  value: RefreshingProvider<AwsCredentialIdentity>,
): RefreshingProvider<AwsCredentialIdentity> {
  return toClose(value)
}

/** Records the access key id of every request `client` sends, read from its signed `Authorization`. */
function recordSigningKeys(client: S3Client): string[] {
  const keys: string[] = []
  client.middlewareStack.addRelativeTo(
    (next: FinalizeHandler<object, MetadataBearer>) => async (args: FinalizeHandlerArguments<object>) => {
      const headers = (args.request as { headers?: Record<string, string> }).headers ?? {}
      const key = /Credential=([A-Z0-9]+)\//.exec(headers['authorization'] ?? '')?.[1]
      if (key !== undefined) keys.push(key)
      return next(args)
    },
    { name: 'testRecordSigningKey', relation: 'after', toMiddleware: 'httpSigningMiddleware' },
  )
  return keys
}

// Core's DescribableProvider and refresh's RefreshingProvider type their parameter as
// Record<string, unknown>, which createCredentialChain's AwsIdentityProperties does not fit (an
// interface has no index signature); the SDK's own provider type, which they satisfy, does.
const sdk = (provider: AwsCredentialIdentityProvider): AwsCredentialIdentityProvider => provider

function s3Client(em: Emulator, credentials: AwsCredentialIdentityProvider): S3Client {
  const client = new S3Client({ region: REGION, endpoint: em.awsUrl, forcePathStyle: true, credentials })
  open.push({ close: () => client.destroy() })
  return client
}

function stsClient(em: Emulator, credentials: AwsCredentialIdentityProvider): STSClient {
  const client = new STSClient({ region: REGION, endpoint: em.awsUrl, credentials })
  open.push({ close: () => client.destroy() })
  return client
}

async function bucketNames(client: S3Client): Promise<string[]> {
  const result = await client.send(new ListBucketsCommand({}))
  return (result.Buckets ?? []).map((bucket) => bucket.Name ?? '')
}

async function callerArn(client: STSClient): Promise<string> {
  return (await client.send(new GetCallerIdentityCommand({}))).Arn ?? ''
}

describe('defaultChain() with real AWS SDK clients against the emulator', () => {
  it('EKS Pod Identity: S3 ListBuckets and STS GetCallerIdentity are signed with agent credentials', async () => {
    const em = await emulator()
    const credentials = provider(defaultChain({ env: em.env, sdkFallback: false }))

    expect(await bucketNames(s3Client(em, credentials))).toEqual(['podcreds-demo'])
    expect(await callerArn(stsClient(em, credentials))).toMatch(
      /^arn:aws:sts::111122223333:assumed-role\/podcreds-demo\//,
    )
    expect(em.stats().agentRequests).toBe(1)
    expect(em.stats().stsRequests).toBe(0)
  })

  it('IRSA: the credentials come from STS AssumeRoleWithWebIdentity', async () => {
    const em = await emulator()
    const credentials = provider(defaultChain({ env: em.irsaEnv, sdkFallback: false }))

    expect(await bucketNames(s3Client(em, credentials))).toEqual(['podcreds-demo'])
    expect(await callerArn(stsClient(em, credentials))).toMatch(
      /^arn:aws:sts::111122223333:assumed-role\/podcreds-demo-irsa\//,
    )
    expect(em.stats().stsRequests).toBe(1)
    expect(em.stats().agentRequests).toBe(0)
  })

  it('environment keys win over the pod sources and sign requests as they are', async () => {
    const em = await emulator()
    // Keys the emulator issued (it verifies only those), handed over as a static environment.
    const issued = await fromContainer({ env: em.env })()
    const env = {
      ...em.env,
      AWS_ACCESS_KEY_ID: issued.accessKeyId,
      AWS_SECRET_ACCESS_KEY: issued.secretAccessKey,
      AWS_SESSION_TOKEN: issued.sessionToken,
    }
    const credentials = provider(defaultChain({ env, sdkFallback: false }))
    const s3 = s3Client(em, credentials)
    const keys = recordSigningKeys(s3)

    expect(await bucketNames(s3)).toEqual(['podcreds-demo'])
    expect(keys).toEqual([issued.accessKeyId])
    expect(em.stats().agentRequests).toBe(1) // only the one above, for the keys themselves
  })

  it('with IRSA and Pod Identity both configured, web identity wins and explain() says both were found', async () => {
    const em = await emulator()
    const env = { ...em.env, ...em.irsaEnv }
    const credentials = provider(defaultChain({ env, sdkFallback: false }))

    expect(await callerArn(stsClient(em, credentials))).toContain(':assumed-role/podcreds-demo-irsa/')
    expect(em.stats().agentRequests).toBe(0)

    const explanation = await explain({ env, sdkFallback: false })
    expect(explanation.chosen).toBe('web-identity')
    expect(explanation.links.find((link) => link.name === 'container')?.reason).toMatch(
      /^also configured \(GET .*\), not used: web-identity comes first$/,
    )
    expect(String(explanation)).toContain('web-identity chosen')
  })

  it('picks up credentials rotated by refresh without restarting the client', async () => {
    // Below the SDK client's own 5-minute memo threshold, so the client asks our provider on
    // every request and sees what the engine holds now.
    // Fresh keys per agent call: the real agent would answer the same set until its renewal.
    const em = await emulator({ credentialLifetimeMs: 4 * 60_000, agent: { cache: false } })
    const credentials = provider(defaultChain({ env: em.env, sdkFallback: false }))
    const s3 = s3Client(em, credentials)
    const keys = recordSigningKeys(s3)

    expect(await bucketNames(s3)).toEqual(['podcreds-demo'])
    const rotated = await credentials.refresh()
    expect(await bucketNames(s3)).toEqual(['podcreds-demo'])

    expect(keys).toHaveLength(2)
    expect(keys[1]).toBe(rotated.accessKeyId)
    expect(keys[1]).not.toBe(keys[0])
    expect(em.stats().agentRequests).toBe(2)
  })
})

describe('credentialsPlugin() with a real S3Client', () => {
  /** An emulator whose clock can be moved ahead of the client's, so issued keys expire early. */
  async function skewableEmulator(): Promise<{ em: Emulator; advance(ms: number): void }> {
    let offset = 0
    const clock: Clock = {
      now: () => systemClock.now() + offset,
      setTimeout: (fn, ms, options) => systemClock.setTimeout(fn, ms, options),
      clearTimeout: (handle) => systemClock.clearTimeout(handle),
    }
    // 10-minute credentials, and an 11-minute jump: expired on the AWS endpoint, while the client
    // (on the real clock) still trusts them, and still within SigV4's 15-minute date tolerance.
    const em = await emulator({ credentialLifetimeMs: 10 * 60_000, clock })
    return { em, advance: (ms) => (offset += ms) }
  }

  it('on ExpiredToken, invalidates the key the request was signed with and retries once, signed anew', async () => {
    const { em, advance } = await skewableEmulator()
    const credentials = provider(defaultChain({ env: em.env, sdkFallback: false }))
    const s3 = s3Client(em, credentials)
    s3.middlewareStack.use(credentialsPlugin(credentials))
    const keys = recordSigningKeys(s3)

    expect(await bucketNames(s3)).toEqual(['podcreds-demo'])
    advance(11 * 60_000)
    expect(await bucketNames(s3)).toEqual(['podcreds-demo'])

    const [first, rejected, retried] = keys
    expect(keys).toHaveLength(3)
    expect(rejected).toBe(first)
    expect(retried).not.toBe(first)
    expect(credentials.stats().sourceCalls).toBe(2)

    // The client's own cache still holds the rejected key: the plugin signs with the fresh one.
    expect(await bucketNames(s3)).toEqual(['podcreds-demo'])
    expect(keys.slice(3)).toEqual([retried])
    expect(em.stats().agentRequests).toBe(2)
  })

  it('without the plugin, the same situation fails with ExpiredToken', async () => {
    const { em, advance } = await skewableEmulator()
    const credentials = provider(defaultChain({ env: em.env, sdkFallback: false }))
    const s3 = s3Client(em, credentials)

    await bucketNames(s3)
    advance(11 * 60_000)

    await expect(bucketNames(s3)).rejects.toMatchObject({ name: 'ExpiredToken' })
  })

  it('returns a second rejection to the caller (one retry only)', async () => {
    const em = await emulator()
    const credentials = provider(defaultChain({ env: em.env, sdkFallback: false }))
    const s3 = s3Client(em, credentials)
    s3.middlewareStack.use(credentialsPlugin(credentials))
    const keys = recordSigningKeys(s3)
    em.faults.set({ aws: { status: 400, code: 'ExpiredToken' } })

    await expect(bucketNames(s3)).rejects.toMatchObject({ name: 'ExpiredToken' })
    expect(keys).toHaveLength(2)
    expect(credentials.stats().sourceCalls).toBe(2)
  })

  it('does not resend a streamed body (already consumed), but still invalidates the rejected key', async () => {
    // Fresh keys per agent call, so "the next call gets fresh credentials" shows the invalidation.
    const em = await emulator({ agent: { cache: false } })
    const credentials = provider(defaultChain({ env: em.env, sdkFallback: false }))
    const s3 = s3Client(em, credentials)
    s3.middlewareStack.use(credentialsPlugin(credentials))
    const keys = recordSigningKeys(s3)
    em.faults.set({ aws: { status: 400, code: 'ExpiredToken' } })

    const put = (Body: PutObjectCommandInput['Body']) =>
      s3.send(new PutObjectCommand({ Bucket: 'podcreds-demo', Key: 'k', Body, ContentLength: 4 }))

    await expect(put(Buffer.from('data'))).rejects.toMatchObject({ name: 'ExpiredToken' })
    expect(keys).toHaveLength(2) // a buffer is replayable: retried once
    await expect(put(Readable.from([Buffer.from('data')]))).rejects.toMatchObject({ name: 'ExpiredToken' })
    expect(keys).toHaveLength(3) // a stream is not: no retry
    expect(keys[2]).toBe(keys[1])
    // …and the next call gets fresh credentials.
    expect((await credentials()).accessKeyId).not.toBe(keys[2])
  })

  it('throws TypeError for a provider without invalidate()', () => {
    expect(() => credentialsPlugin((async () => ({})) as never)).toThrow(
      'provider must have invalidate(key), as refreshing() and defaultChain() providers do',
    )
  })
})

describe('podcreds providers inside the AWS SDK’s own chains', () => {
  it('createCredentialChain moves past a not-configured podcreds link (tryNextLink) to one that works', async () => {
    const em = await emulator()
    const sdkChain = createCredentialChain(
      sdk(fromEnv({ env: {} })),
      sdk(fromContainer({ env: {} })),
      chain(fromEnv({ env: {} })), // ERR_CHAIN_EXHAUSTED is tryNextLink too
      sdk(fromContainer({ env: em.env })),
    )
    expect(await bucketNames(s3Client(em, sdkChain))).toEqual(['podcreds-demo'])
  })

  it('createCredentialChain stops at a configured but broken podcreds link with its own error', async () => {
    const em = await emulator()
    const broken = fromContainer({
      env: { ...em.env, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: '/nonexistent/token' },
    })
    let laterCalls = 0
    const sdkChain = createCredentialChain(sdk(broken), async () => {
      laterCalls++
      return fromContainer({ env: em.env })()
    })

    const error = await sdkChain().catch((e: unknown) => e)

    expect(error).toBeInstanceOf(CredentialsError)
    expect((error as CredentialsError).code).toBe('ERR_TOKEN_FILE')
    expect(laterCalls).toBe(0)
  })

  it('a defaultChain() that finds nothing lets the SDK chain go on', async () => {
    const em = await emulator()
    const nothing = provider(defaultChain({ env: { AWS_EC2_METADATA_DISABLED: 'true' }, sdkFallback: false }))
    const sdkChain = createCredentialChain(sdk(nothing), sdk(fromContainer({ env: em.env })))
    expect(await bucketNames(s3Client(em, sdkChain))).toEqual(['podcreds-demo'])
  })

  it('our chain() moves past the SDK’s fromIni when its profile does not exist', async () => {
    const em = await emulator()
    const dir = mkdtempSync(join(tmpdir(), 'podcreds-e2e-'))
    open.push({ close: () => rmSync(dir, { recursive: true, force: true }) })
    const missingProfile = fromIni({
      profile: 'podcreds-missing',
      filepath: join(dir, 'credentials'),
      configFilepath: join(dir, 'config'),
    })
    const ours = chain(
      { name: 'profile', provider: missingProfile },
      { name: 'pod', provider: fromContainer({ env: em.env }) },
    )

    expect(await bucketNames(s3Client(em, ours))).toEqual(['podcreds-demo'])
    expect(ours.lastLink()).toBe('pod')
  })
})
