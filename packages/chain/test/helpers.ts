import { writeFileSync } from 'node:fs'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { createServer } from 'node:http'
import { join } from 'node:path'
import type { AwsCredentialIdentity, SourceDescription } from '@podcreds/core'
import { CredentialsError } from '@podcreds/core'
import { closeServer, listenLoopback, readBody } from '../../../test/support/loopback.js'
import { assertNoSecret } from '../../../test/support/secrets.js'

/** Secret-looking strings that must never appear in any printed form. */
export const CANARY_SECRET = 'SECRETCANARYsecretAccessKey0123456789abcd'
export const CANARY_TOKEN = 'SECRETCANARYsessionTokenIQoJb3JpZ2luX2VjEJf'
export const CANARY_SA_TOKEN_SIGNATURE = 'SECRETCANARYserviceAccountTokenSignature'

/** Asserts no canary appears in any printed form of `value` (test/support/secrets.ts). */
export function expectNoSecret(value: unknown): void {
  assertNoSecret(value, ['SECRETCANARY'])
}

/** Credentials with a recognisable key id and canary secrets. */
export function credentials(keyId: string, expiresInMs = 3_600_000, now = Date.now()): AwsCredentialIdentity {
  return {
    accessKeyId: keyId,
    secretAccessKey: CANARY_SECRET,
    sessionToken: CANARY_TOKEN,
    expiration: new Date(now + expiresInMs),
  }
}

/** What a fake link does on each call. */
export type Behaviour =
  | { kind: 'ok'; credentials: AwsCredentialIdentity }
  | { kind: 'not-configured'; reason?: string }
  | { kind: 'broken'; error?: Error }

/** A fake chain link: a provider with `describe()` whose behaviour a test can change. */
export interface FakeLink {
  (): Promise<AwsCredentialIdentity>
  describe(): Promise<SourceDescription>
  calls: number
  describes: number
  behaviour: Behaviour
}

export function fakeLink(behaviour: Behaviour): FakeLink {
  const link = async (): Promise<AwsCredentialIdentity> => {
    link.calls++
    const current = link.behaviour
    if (current.kind === 'ok') return current.credentials
    if (current.kind === 'not-configured') {
      throw new CredentialsError(current.reason ?? 'not set up here', { code: 'ERR_NOT_CONFIGURED' })
    }
    throw current.error ?? new CredentialsError('configured but broken', { code: 'ERR_TOKEN_FILE' })
  }
  link.calls = 0
  link.describes = 0
  link.behaviour = behaviour
  link.describe = async (): Promise<SourceDescription> => {
    link.describes++
    const current = link.behaviour
    if (current.kind === 'ok') return { configured: true, reason: 'set up', details: { key: 'value' } }
    if (current.kind === 'not-configured') {
      return { configured: false, reason: current.reason ?? 'not set up here', details: {} }
    }
    throw current.error ?? new CredentialsError('configured but broken', { code: 'ERR_TOKEN_FILE' })
  }
  return link
}

/** An error shaped like the AWS SDK's `CredentialsProviderError` (name, `tryNextLink`). */
export class SdkLikeProviderError extends Error {
  readonly tryNextLink: boolean
  constructor(message: string, tryNextLink: boolean) {
    super(message)
    this.name = 'CredentialsProviderError'
    this.tryNextLink = tryNextLink
  }
}

export interface TestServer {
  url: string
  hits: number
  requests: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[]
  close(): Promise<void>
}

/** A loopback `node:http` server on an ephemeral port, recording requests. */
export async function startServer(
  handler: (req: IncomingMessage, body: string, res: ServerResponse) => void,
): Promise<TestServer> {
  const server: Server = createServer()
  const state: TestServer = {
    url: '',
    hits: 0,
    requests: [],
    close: () => closeServer(server),
  }
  server.on('request', async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req)
    state.hits++
    state.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body })
    handler(req, body, res)
  })
  state.url = (await listenLoopback(server)).origin
  return state
}

/** A fake Pod Identity agent answering every request with fresh credentials for `keyId`. */
export function startAgent(keyId: string, lifetimeMs = 3_600_000): Promise<TestServer> {
  return startServer((_req, _body, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(
      JSON.stringify({
        AccessKeyId: keyId,
        SecretAccessKey: CANARY_SECRET,
        Token: CANARY_TOKEN,
        AccountId: '111122223333',
        Expiration: new Date(Date.now() + lifetimeMs).toISOString(),
      }),
    )
  })
}

/** A fake STS answering `AssumeRoleWithWebIdentity` with credentials for `keyId`. */
export function startSts(keyId: string, lifetimeMs = 3_600_000): Promise<TestServer> {
  return startServer((_req, _body, res) => {
    res.writeHead(200, { 'content-type': 'text/xml' })
    res.end(`<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>system:serviceaccount:default:app</SubjectFromWebIdentityToken>
    <AssumedRoleUser>
      <AssumedRoleId>AROAEXAMPLE:session</AssumedRoleId>
      <Arn>arn:aws:sts::111122223333:assumed-role/app/session</Arn>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>${keyId}</AccessKeyId>
      <SecretAccessKey>${CANARY_SECRET}</SecretAccessKey>
      <SessionToken>${CANARY_TOKEN}</SessionToken>
      <Expiration>${new Date(Date.now() + lifetimeMs).toISOString()}</Expiration>
    </Credentials>
    <Audience>sts.amazonaws.com</Audience>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>`)
  })
}

/** Writes an unsigned, JWT-shaped service-account token valid for an hour; returns its path. */
export function writeToken(dir: string, name = 'token', audience = 'sts.amazonaws.com'): string {
  const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  const now = Math.floor(Date.now() / 1000)
  const jwt = [
    encode({ alg: 'RS256', kid: 'test' }),
    encode({
      iss: 'https://oidc.example.com/id/TEST',
      sub: 'system:serviceaccount:default:app',
      aud: [audience],
      iat: now,
      exp: now + 3600,
    }),
    CANARY_SA_TOKEN_SIGNATURE,
  ].join('.')
  const path = join(dir, name)
  writeFileSync(path, `${jwt}\n`)
  return path
}

/** A Pod Identity environment pointing at `agentUrl`, with the token in `tokenFile`. */
export function podIdentityEnv(agentUrl: string, tokenFile: string): Record<string, string> {
  return {
    AWS_CONTAINER_CREDENTIALS_FULL_URI: `${agentUrl}/v1/credentials`,
    AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile,
    AWS_EC2_METADATA_DISABLED: 'true',
  }
}

/** An IRSA environment with STS at `stsUrl`. */
export function irsaEnv(stsUrl: string, tokenFile: string): Record<string, string> {
  return {
    AWS_ROLE_ARN: 'arn:aws:iam::111122223333:role/app',
    AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_STS: stsUrl,
    AWS_EC2_METADATA_DISABLED: 'true',
  }
}
