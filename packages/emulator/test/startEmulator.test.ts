import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { startEmulator } from '@podcreds/emulator'
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose'
import { describe, expect, it } from 'vitest'
import { getCredentials, send, until } from './helpers.js'

/** Handles that would keep a process alive: servers, sockets, timers. */
function liveHandles(): string[] {
  return process
    .getActiveResourcesInfo()
    .filter((name) => name === 'TCPServerWrap' || name === 'TCPSocketWrap' || name === 'Timeout')
}

describe('startEmulator', () => {
  it('starts on loopback with the documented env records and closes without leaking handles', async () => {
    // Prepare
    const before = liveHandles().length
    // Act
    const emulator = await startEmulator()
    const token = await readFile(emulator.env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE!, 'utf8')
    const reply = await getCredentials(emulator.agentUrl, token)
    await emulator.close()
    await emulator.close() // idempotent
    // Assess
    expect(reply.status).toBe(200)
    for (const url of [
      emulator.agentUrl,
      emulator.stsUrl,
      emulator.awsUrl,
      emulator.issuerUrl,
      emulator.imdsUrl,
    ]) {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+/)
    }
    expect(new Set([emulator.agentUrl, emulator.stsUrl, emulator.awsUrl]).size).toBe(3)
    expect(emulator.env).toEqual({
      AWS_CONTAINER_CREDENTIALS_FULL_URI: `${emulator.agentUrl}/v1/credentials`,
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: `${emulator.tokenDir}/eks-pod-identity-token`,
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_STS: emulator.stsUrl,
      AWS_ENDPOINT_URL_S3: emulator.awsUrl,
      AWS_EC2_METADATA_SERVICE_ENDPOINT: emulator.imdsUrl,
      KUBERNETES_SERVICE_HOST: '127.0.0.1',
      KUBERNETES_SERVICE_PORT: '443',
    })
    expect(emulator.irsaEnv).toEqual({
      AWS_ROLE_ARN: 'arn:aws:iam::111122223333:role/podcreds-demo-irsa',
      AWS_WEB_IDENTITY_TOKEN_FILE: `${emulator.tokenDir}/token`,
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_STS_REGIONAL_ENDPOINTS: 'regional',
      AWS_ENDPOINT_URL_STS: emulator.stsUrl,
      AWS_ENDPOINT_URL_S3: emulator.awsUrl,
      AWS_EC2_METADATA_SERVICE_ENDPOINT: emulator.imdsUrl,
      KUBERNETES_SERVICE_HOST: '127.0.0.1',
      KUBERNETES_SERVICE_PORT: '443',
    })
    expect(emulator.associations).toEqual([
      {
        namespace: 'default',
        serviceAccount: 'app',
        roleArn: 'arn:aws:iam::111122223333:role/podcreds-demo',
      },
    ])
    expect(emulator.roleArns).toEqual([
      'arn:aws:iam::111122223333:role/podcreds-demo',
      'arn:aws:iam::111122223333:role/podcreds-demo-irsa',
      'arn:aws:iam::444455556666:role/podcreds-demo-cross-account',
    ])
    expect(existsSync(emulator.tokenDir)).toBe(false)
    await expect(send(emulator.agentUrl)).rejects.toThrow()
    // The client's own socket of the request above closes a tick or two after its response on
    // Node >= 24 (seen on 24.22.3 and 26.10.0): wait for it rather than read one instant.
    await until(() => liveHandles().length <= before, 'the handles to close')
  })

  it('closes promptly while a request is held by injected latency, failing that request', async () => {
    const before = liveHandles().length
    const emulator = await startEmulator()
    emulator.faults.set({ agent: { latencyMs: 600_000 } })
    const held = getCredentials(emulator.agentUrl, 'token').catch((error: Error) => error)
    await until(() => emulator.stats().agentRequests === 1, 'the request to arrive')
    await emulator.close()
    expect(await held).toBeInstanceOf(Error)
    expect(liveHandles().length).toBeLessThanOrEqual(before)
  })

  it('supports await using', async () => {
    let dir = ''
    {
      await using emulator = await startEmulator()
      dir = emulator.tokenDir
      expect(existsSync(dir)).toBe(true)
    }
    expect(existsSync(dir)).toBe(false)
  })

  it('writes projected tokens shaped like kubelet’s, verifiable through OIDC discovery and JWKS', async () => {
    await using emulator = await startEmulator({ namespace: 'shop', serviceAccount: 'checkout' })
    const discovery = JSON.parse((await send(`${emulator.issuerUrl}/.well-known/openid-configuration`)).body)
    const jwks = JSON.parse((await send(discovery.jwks_uri)).body)
    const podToken = await readFile(emulator.tokenFiles.podIdentity, 'utf8')
    const irsaToken = await readFile(emulator.tokenFiles.irsa, 'utf8')

    expect(discovery.issuer).toBe(emulator.issuerUrl)
    expect(emulator.issuerUrl).toMatch(/\/id\/[0-9A-F]{32}$/)
    const { payload, protectedHeader } = await jwtVerify(irsaToken, createLocalJWKSet(jwks), {
      issuer: emulator.issuerUrl,
      audience: 'sts.amazonaws.com',
    })
    expect(protectedHeader).toMatchObject({ alg: 'RS256', kid: jwks.keys[0].kid })
    expect(payload.sub).toBe('system:serviceaccount:shop:checkout')
    expect(payload.exp! - payload.iat!).toBe(86_400)
    expect(payload.nbf).toBe(payload.iat)
    expect(typeof payload.jti).toBe('string')
    expect(payload['kubernetes.io']).toMatchObject({
      namespace: 'shop',
      serviceaccount: { name: 'checkout', uid: expect.any(String) },
      pod: { name: expect.stringMatching(/^checkout-/), uid: expect.any(String) },
      node: { name: expect.any(String), uid: expect.any(String) },
    })
    expect(decodeJwt(podToken).aud).toEqual(['pods.eks.amazonaws.com'])
    expect(emulator.oidcProviderArn).toBe(
      `arn:aws:iam::111122223333:oidc-provider/${emulator.issuerUrl.replace('http://', '')}`,
    )
  })

  it('rejects bad options with a TypeError naming the option, before starting anything', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ credentialLifetimeMs: -1 }, /credentialLifetimeMs/],
      [{ tokenLifetimeMs: 'long' }, /tokenLifetimeMs/],
      [{ rotateEveryMs: Number.NaN }, /rotateEveryMs/],
      [{ namespace: 'Bad_NS' }, /namespace/],
      [{ serviceAccount: '' }, /serviceAccount/],
      [{ accountId: '123' }, /accountId/],
      [{ region: 'moon' }, /region/],
      [{ roles: [{ arn: 'not-an-arn', trustPolicy: { Statement: [] } }] }, /roles\[0\]\.arn/],
      [{ roles: [{ arn: 'arn:aws:iam::111122223333:role/x', trustPolicy: 42 }] }, /roles\[0\]\.trustPolicy/],
      [{ associations: [{ namespace: 'default' }] }, /associations\[0\]/],
      [{ clientIds: [''] }, /clientIds/],
      [{ clock: { now: () => 0 } }, /clock/],
      [{ random: 0.5 }, /random/],
      [{ colour: 'blue' }, /colour/],
    ]
    for (const [options, name] of cases) {
      await expect(startEmulator(options as never), JSON.stringify(options)).rejects.toThrow(TypeError)
      await expect(startEmulator(options as never)).rejects.toThrow(name)
    }
  })

  it('serves 404 for unknown paths and 405 for wrong methods', async () => {
    await using emulator = await startEmulator()
    expect((await send(`${emulator.agentUrl}/v2/credentials`)).status).toBe(404)
    expect((await send(`${emulator.agentUrl}/v1/credentials`, { method: 'POST' })).status).toBe(405)
    expect((await send(`${emulator.issuerUrl}/nothing`)).status).toBe(404)
  })
})
