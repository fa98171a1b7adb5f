import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import type { IncomingHttpHeaders, Server } from 'node:http'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3'
import type { HttpTransport } from '@podcreds/core'
import { httpRequest } from '@podcreds/core'
import { startEmulator } from '@podcreds/emulator'
import { fromWebIdentity } from '@podcreds/web-identity'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { closeServer, listenLoopback, readBody } from './support/loopback.js'

// A real AWS SDK v3 S3 client takes fromWebIdentity() as its `credentials`: the provider's
// credentials sign the request (issue 7, "Works as `credentials` of a real @aws-sdk/client-s3").

const ACCESS_KEY_ID = 'ASIAPODCREDSWEBIDENT'
const SECRET_ACCESS_KEY = 'SECRETCANARYwebidentitysecretkey00000000'
const SESSION_TOKEN = 'SECRETCANARYwebidentitysessiontoken+/='
const ROLE = 'arn:aws:iam::123456789012:role/s3-reader'

const STS_SUCCESS = `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/s3-reader/podcreds</Arn>
      <AssumedRoleId>AROAEXAMPLE:podcreds</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>${ACCESS_KEY_ID}</AccessKeyId>
      <SecretAccessKey>${SECRET_ACCESS_KEY}</SecretAccessKey>
      <SessionToken>${SESSION_TOKEN}</SessionToken>
      <Expiration>2099-01-01T00:00:00Z</Expiration>
    </Credentials>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>`

const LIST_BUCKETS = `<?xml version="1.0" encoding="UTF-8"?>
<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Owner><ID>owner-id</ID><DisplayName>owner</DisplayName></Owner>
  <Buckets><Bucket><Name>podcreds-bucket</Name><CreationDate>2026-01-01T00:00:00.000Z</CreationDate></Bucket></Buckets>
</ListAllMyBucketsResult>`

interface Loopback {
  url: string
  requests: { path: string; headers: IncomingHttpHeaders; body: string }[]
  close(): Promise<void>
}

async function serve(body: string): Promise<Loopback> {
  const requests: Loopback['requests'] = []
  const server: Server = createServer(async (req, res) => {
    requests.push({ path: req.url ?? '', headers: req.headers, body: await readBody(req) })
    res.writeHead(200, { 'content-type': 'application/xml' }).end(body)
  })
  const { origin } = await listenLoopback(server)
  return { url: origin, requests, close: () => closeServer(server) }
}

let sts: Loopback
let s3: Loopback
let dir: string
let tokenFile: string
const token = `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from(
  JSON.stringify({ sub: 'system:serviceaccount:default:app', aud: 'sts.amazonaws.com', exp: 4_102_444_800 }),
).toString('base64url')}.c2lnbmF0dXJl`

beforeEach(async () => {
  sts = await serve(STS_SUCCESS)
  s3 = await serve(LIST_BUCKETS)
  dir = await mkdtemp(join(tmpdir(), 'podcreds-sdk-'))
  tokenFile = join(dir, 'token')
  await writeFile(tokenFile, token)
})
afterEach(async () => {
  await sts.close()
  await s3.close()
  await rm(dir, { recursive: true, force: true })
})

describe('fromWebIdentity with a real S3Client', () => {
  it('signs S3 requests with the credentials STS returned', async () => {
    const client = new S3Client({
      region: 'us-east-1',
      endpoint: s3.url,
      forcePathStyle: true,
      credentials: fromWebIdentity({
        env: { AWS_ROLE_ARN: ROLE, AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile, AWS_ENDPOINT_URL_STS: sts.url },
      }),
    })
    try {
      const result = await client.send(new ListBucketsCommand({}))

      expect(result.Buckets?.map((bucket) => bucket.Name)).toEqual(['podcreds-bucket'])
      expect(sts.requests).toHaveLength(1)
      expect(new URLSearchParams(sts.requests[0]?.body).get('WebIdentityToken')).toBe(token)
      const headers = s3.requests[0]?.headers ?? {}
      expect(headers.authorization).toMatch(
        new RegExp(`^AWS4-HMAC-SHA256 Credential=${ACCESS_KEY_ID}/\\d{8}/us-east-1/s3/aws4_request`),
      )
      expect(headers['x-amz-security-token']).toBe(SESSION_TOKEN)
    } finally {
      client.destroy()
    }
  })

  it("uses the S3 client's region for the STS endpoint when none is configured", async () => {
    const seen: string[] = []
    const transport: HttpTransport = (request, options) => {
      seen.push(request.url.href)
      return httpRequest({ ...request, url: new URL(sts.url) }, options)
    }
    const client = new S3Client({
      region: 'eu-central-1',
      endpoint: s3.url,
      forcePathStyle: true,
      credentials: fromWebIdentity({ roleArn: ROLE, tokenFile, env: {}, transport }),
    })
    try {
      await client.send(new ListBucketsCommand({}))
      expect(seen).toEqual(['https://sts.eu-central-1.amazonaws.com/'])
      expect(s3.requests[0]?.headers.authorization).toContain(`Credential=${ACCESS_KEY_ID}/`)
    } finally {
      client.destroy()
    }
  })

  it('gets credentials from the emulator STS that its SigV4-verifying endpoint accepts', async () => {
    // The emulator's STS checks the token's signature, issuer, audience and the role's trust
    // policy; its AWS endpoint answers ListBuckets only for credentials it issued.
    const emulator = await startEmulator()
    const provider = fromWebIdentity({ env: emulator.irsaEnv })
    const client = new S3Client({
      region: 'us-east-1',
      endpoint: emulator.awsUrl,
      forcePathStyle: true,
      credentials: provider,
    })
    try {
      const description = await provider.describe()
      expect(description.details.endpointSource).toBe('AWS_ENDPOINT_URL_STS')
      expect(description.details.tokenAudience).toBe('sts.amazonaws.com')

      const result = await client.send(new ListBucketsCommand({}))
      expect(result.$metadata.httpStatusCode).toBe(200)
      const creds = await provider()
      expect(creds.accountId).toMatch(/^\d{12}$/)
      expect(creds.expiration.getTime()).toBeGreaterThan(Date.now())
    } finally {
      client.destroy()
      await emulator.close()
    }
  })
})
