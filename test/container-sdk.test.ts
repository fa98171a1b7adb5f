import type { IncomingHttpHeaders } from 'node:http'
import { createServer } from 'node:http'
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { fromContainer } from '@podcreds/container'
import { afterEach, describe, expect, it } from 'vitest'
import { closeServer, listenLoopback, readBody } from './support/loopback.js'

// A real AWS SDK v3 client takes fromContainer() as `credentials`: the SDK calls the provider,
// signs with what the (loopback) Pod Identity agent returned, and sends the session token.
// Both the agent and STS are loopback fakes; SigV4 itself is not verified here (the emulator does).

interface Recorded {
  method: string
  path: string
  headers: IncomingHttpHeaders
  body: string
}

const closers: (() => Promise<void>)[] = []

afterEach(async () => {
  while (closers.length > 0) await closers.pop()?.()
})

async function serve(answer: (req: Recorded) => { status: number; type: string; body: string }) {
  const hits: Recorded[] = []
  const server = createServer(async (req, res) => {
    const hit = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      body: await readBody(req),
    }
    hits.push(hit)
    const { status, type, body } = answer(hit)
    res.writeHead(status, { 'content-type': type })
    res.end(body)
  })
  const { origin } = await listenLoopback(server)
  closers.push(() => closeServer(server))
  return { url: origin, hits }
}

const ACCESS_KEY_ID = 'ASIAPODIDENTITY00001'
const SESSION_TOKEN = 'pod-identity-session-token'

describe('fromContainer as credentials of a real @aws-sdk/client-sts STSClient', () => {
  it('signs GetCallerIdentity with the credentials the agent returned', async () => {
    const agent = await serve(() => ({
      status: 200,
      type: 'application/json',
      body: JSON.stringify({
        AccessKeyId: ACCESS_KEY_ID,
        SecretAccessKey: 'pod-identity-secret-access-key',
        Token: SESSION_TOKEN,
        AccountId: '123456789012',
        Expiration: new Date(Date.now() + 3_600_000).toISOString(),
      }),
    }))
    const sts = await serve(() => ({
      status: 200,
      type: 'text/xml',
      body: `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:sts::123456789012:assumed-role/checkout/eks-shop-checkout</Arn>
    <UserId>AROAEXAMPLEROLEID:eks-shop-checkout</UserId>
    <Account>123456789012</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>`,
    }))

    const client = new STSClient({
      region: 'eu-west-1',
      endpoint: sts.url,
      maxAttempts: 1,
      credentials: fromContainer({
        env: {
          AWS_CONTAINER_CREDENTIALS_FULL_URI: `${agent.url}/v1/credentials`,
          AWS_CONTAINER_AUTHORIZATION_TOKEN: 'eks-pod-identity-token',
        },
      }),
    })
    try {
      const identity = await client.send(new GetCallerIdentityCommand({}))
      const again = await client.send(new GetCallerIdentityCommand({}))

      expect(identity.Account).toBe('123456789012')
      expect(identity.Arn).toBe('arn:aws:sts::123456789012:assumed-role/checkout/eks-shop-checkout')
      expect(again.Account).toBe('123456789012')
      expect(agent.hits[0]?.headers.authorization).toBe('eks-pod-identity-token')
      expect(sts.hits).toHaveLength(2)
      for (const hit of sts.hits) {
        expect(hit.method).toBe('POST')
        expect(hit.body).toContain('Action=GetCallerIdentity')
        expect(hit.headers.authorization).toMatch(
          new RegExp(`^AWS4-HMAC-SHA256 Credential=${ACCESS_KEY_ID}/\\d{8}/eu-west-1/sts/aws4_request, `),
        )
        expect(hit.headers['x-amz-security-token']).toBe(SESSION_TOKEN)
      }
      // The SDK caches the identity until near its expiry: one agent call for two requests.
      expect(agent.hits).toHaveLength(1)
    } finally {
      client.destroy()
    }
  })

  it('surfaces the agent error to the caller of client.send', async () => {
    const agent = await serve(() => ({
      status: 404,
      type: 'text/plain',
      body: 'no Pod Identity association for service account shop/checkout',
    }))
    const sts = await serve(() => ({ status: 500, type: 'text/plain', body: 'must not be called' }))
    const client = new STSClient({
      region: 'eu-west-1',
      endpoint: sts.url,
      maxAttempts: 1,
      credentials: fromContainer({ env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: agent.url } }),
    })
    try {
      const error = await client.send(new GetCallerIdentityCommand({})).then(
        () => undefined,
        (err: unknown) => err as { code?: string; status?: number; message: string },
      )
      expect(error?.code).toBe('ERR_HTTP_STATUS')
      expect(error?.status).toBe(404)
      expect(error?.message).toContain('no Pod Identity association')
      expect(sts.hits).toHaveLength(0)
    } finally {
      client.destroy()
    }
  })
})
