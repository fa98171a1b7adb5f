import { createServer, type Server } from 'node:http'
import type { Clock } from '@podcreds/core'
import { systemClock } from '@podcreds/core'
import { createTokenVerifier, verifyToken } from '@podcreds/token'
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { rejectionOf } from '../../../test/support/errors.js'
import { closeServer, listenLoopback } from '../../../test/support/loopback.js'
import { b64u, expectNoLeak } from './helpers.js'

type Key = {
  kid: string
  alg: string
  privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey']
  jwk: JWK
}

async function makeKey(kid: string, alg: 'RS256' | 'ES256'): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } }
}

interface Issuer {
  url: string
  keys: Key[]
  hits: { discovery: number; jwks: number }
  discovery?: (url: string) => { status: number; body: string }
  close(): Promise<void>
}

async function startIssuer(keys: Key[]): Promise<Issuer> {
  const issuer = { keys, hits: { discovery: 0, jwks: 0 } } as unknown as Issuer
  const server: Server = createServer((req, res) => {
    if (req.url === '/.well-known/openid-configuration') {
      issuer.hits.discovery++
      const answer = issuer.discovery?.(issuer.url) ?? {
        status: 200,
        body: JSON.stringify({ issuer: issuer.url, jwks_uri: `${issuer.url}/openid/v1/jwks` }),
      }
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body)
    } else if (req.url === '/openid/v1/jwks') {
      issuer.hits.jwks++
      res
        .writeHead(200, { 'content-type': 'application/jwk-set+json' })
        .end(JSON.stringify({ keys: issuer.keys.map((k) => k.jwk) }))
    } else {
      res.writeHead(404).end()
    }
  })
  issuer.url = (await listenLoopback(server)).origin
  issuer.close = () => closeServer(server)
  return issuer
}

function fakeClock(start: number): Clock & { t: number } {
  const clock = {
    t: start,
    now: () => clock.t,
    setTimeout: systemClock.setTimeout,
    clearTimeout: systemClock.clearTimeout,
  }
  return clock
}

const NOW = 1_764_000_000_000
const AUD = 'sts.amazonaws.com'

async function sign(
  key: Key,
  issuer: string,
  claims: Record<string, unknown> = {},
  iatMs = NOW,
): Promise<string> {
  const iat = Math.floor(iatMs / 1000)
  return new SignJWT({
    'kubernetes.io': { namespace: 'payments', serviceaccount: { name: 'api', uid: 'u-1' } },
    ...claims,
  })
    .setProtectedHeader({ alg: key.alg, kid: key.kid })
    .setIssuer(issuer)
    .setSubject('system:serviceaccount:payments:api')
    .setAudience(AUD)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(iat + 3600)
    .sign(key.privateKey)
}

const signatureOf = (jwt: string): string => jwt.split('.')[2] ?? ''

describe('verifyToken', () => {
  let rsa: Key
  let ec: Key
  let rotated: Key
  let issuer: Issuer | undefined
  beforeAll(async () => {
    ;[rsa, ec, rotated] = await Promise.all([
      makeKey('rsa-1', 'RS256'),
      makeKey('ec-1', 'ES256'),
      makeKey('rsa-2', 'RS256'),
    ])
  })
  afterEach(async () => {
    await issuer?.close()
    issuer = undefined
  })

  it('verifies RS256 and ES256 tokens through OIDC discovery, fetching the keys once', async () => {
    issuer = await startIssuer([rsa, ec])
    const clock = fakeClock(NOW)
    const options = { issuer: issuer.url, audience: AUD, clock }
    const viaRsa = await verifyToken(await sign(rsa, issuer.url), options)
    expect(viaRsa.header).toEqual({ alg: 'RS256', kid: 'rsa-1' })
    expect(viaRsa.claims.sub).toBe('system:serviceaccount:payments:api')
    expect(viaRsa.claims['kubernetes.io']?.namespace).toBe('payments')
    const viaEc = await verifyToken(await sign(ec, issuer.url), options)
    expect(viaEc.header.alg).toBe('ES256')
    expect(issuer.hits).toEqual({ discovery: 1, jwks: 1 })
  })

  it('accepts an audience list, a subject check and a Date for now', async () => {
    issuer = await startIssuer([rsa])
    const jwt = await sign(rsa, issuer.url)
    const verified = await verifyToken(jwt, {
      issuer: issuer.url,
      audience: ['other', AUD],
      subject: 'system:serviceaccount:payments:api',
      now: new Date(NOW + 1000),
    })
    expect(verified.claims.aud).toBe(AUD)
    const err = await rejectionOf(
      verifyToken(jwt, { issuer: issuer.url, audience: AUD, subject: 'system:serviceaccount:x:y', now: NOW }),
    )
    expect(err.code).toBe('ERR_TOKEN_INVALID')
    expect(err.message).toMatch(/subject "system:serviceaccount:payments:api" is not the expected/)
    expectNoLeak(err, signatureOf(jwt))
  })

  it('picks up a rotated key: reload on unknown kid after the cooldown, single-flight', async () => {
    issuer = await startIssuer([rsa])
    const clock = fakeClock(NOW)
    const verify = createTokenVerifier({ issuer: issuer.url, audience: AUD, clock, cooldownMs: 30_000 })
    await verify(await sign(rsa, issuer.url))
    expect(issuer.hits.jwks).toBe(1)

    issuer.keys = [rotated] // the cluster rotated its signing key
    const fresh = await sign(rotated, issuer.url)
    // Within the cooldown: no reload, a clear error naming the kid.
    const early = await rejectionOf(verify(fresh))
    expect(early.code).toBe('ERR_TOKEN_INVALID')
    expect(early.message).toMatch(/no key of issuer .* matches kid "rsa-2"/)
    expectNoLeak(early, signatureOf(fresh))
    expect(issuer.hits.jwks).toBe(1)

    clock.t += 30_001
    const results = await Promise.all(Array.from({ length: 8 }, () => verify(fresh)))
    expect(results.every((r) => r.header.kid === 'rsa-2')).toBe(true)
    expect(issuer.hits.jwks).toBe(2)
    expect(issuer.hits.discovery).toBe(1)

    // The old key is gone from the issuer: its tokens no longer verify once the cooldown passed.
    clock.t += 30_001
    const old = await rejectionOf(verify(await sign(rsa, issuer.url)))
    expect(old.code).toBe('ERR_TOKEN_INVALID')
    expect(issuer.hits.jwks).toBe(3)
  })

  it('reloads a key set older than cacheMaxAgeMs', async () => {
    issuer = await startIssuer([rsa])
    const clock = fakeClock(NOW)
    const verify = createTokenVerifier({ issuer: issuer.url, audience: AUD, clock, cacheMaxAgeMs: 60_000 })
    const jwt = await sign(rsa, issuer.url)
    await verify(jwt)
    clock.t += 59_000
    await verify(jwt)
    expect(issuer.hits.jwks).toBe(1)
    clock.t += 2000
    await verify(jwt)
    expect(issuer.hits.jwks).toBe(2)
  })

  it('rejects a wrong issuer before any network call', async () => {
    issuer = await startIssuer([rsa])
    const jwt = await sign(rsa, 'https://evil.example')
    const err = await rejectionOf(verifyToken(jwt, { issuer: issuer.url, audience: AUD, now: NOW }))
    expect(err.code).toBe('ERR_TOKEN_INVALID')
    expect(err.message).toContain('issuer "https://evil.example" is not the expected')
    expect(issuer.hits).toEqual({ discovery: 0, jwks: 0 })
    expectNoLeak(err, signatureOf(jwt))
  })

  it('rejects a wrong audience, naming both sides', async () => {
    issuer = await startIssuer([rsa])
    const jwt = await sign(rsa, issuer.url)
    const err = await rejectionOf(verifyToken(jwt, { issuer: issuer.url, audience: 'vault', now: NOW }))
    expect(err.code).toBe('ERR_TOKEN_INVALID')
    expect(err.message).toContain('audience ["sts.amazonaws.com"] does not include any of ["vault"]')
    expectNoLeak(err, signatureOf(jwt))
  })

  it('rejects an expired token with ERR_TOKEN_EXPIRED, unless within clockToleranceMs', async () => {
    issuer = await startIssuer([rsa])
    const jwt = await sign(rsa, issuer.url)
    const later = NOW + 3600_000 + 5000
    const err = await rejectionOf(verifyToken(jwt, { issuer: issuer.url, audience: AUD, now: later }))
    expect(err.code).toBe('ERR_TOKEN_EXPIRED')
    expect(err.message).toContain(`expired at ${new Date(NOW + 3600_000).toISOString()}`)
    expectNoLeak(err, signatureOf(jwt))
    const ok = await verifyToken(jwt, {
      issuer: issuer.url,
      audience: AUD,
      now: later,
      clockToleranceMs: 10_000,
    })
    expect(ok.claims.iss).toBe(issuer.url)
  })

  it('rejects a token not valid yet', async () => {
    issuer = await startIssuer([rsa])
    const jwt = await sign(rsa, issuer.url)
    const err = await rejectionOf(verifyToken(jwt, { issuer: issuer.url, audience: AUD, now: NOW - 60_000 }))
    expect(err.code).toBe('ERR_TOKEN_INVALID')
    expect(err.message).toMatch(/not valid before/)
  })

  it('rejects alg none without fetching keys', async () => {
    issuer = await startIssuer([rsa])
    const claims = { iss: issuer.url, aud: AUD, sub: 'SECRETCANARYSUB', exp: NOW / 1000 + 60 }
    const jwt = `${b64u({ alg: 'none', kid: 'rsa-1' })}.${b64u(claims)}.`
    const err = await rejectionOf(verifyToken(jwt, { issuer: issuer.url, audience: AUD, now: NOW }))
    expect(err.code).toBe('ERR_TOKEN_INVALID')
    expect(err.message).toContain('algorithm "none" is not accepted')
    expect(issuer.hits).toEqual({ discovery: 0, jwks: 0 })
    expectNoLeak(err, b64u(claims))
  })

  it('rejects a token signed by another key under a known kid', async () => {
    issuer = await startIssuer([rsa])
    const forged = await sign({ ...rotated, kid: 'rsa-1' }, issuer.url)
    const err = await rejectionOf(verifyToken(forged, { issuer: issuer.url, audience: AUD, now: NOW }))
    expect(err.code).toBe('ERR_TOKEN_INVALID')
    expect(err.message).toContain('signature verification failed')
    expectNoLeak(err, signatureOf(forged))
  })

  it('requires exp: a token that never expires is rejected', async () => {
    issuer = await startIssuer([rsa])
    const jwt = await new SignJWT({ sub: 'system:serviceaccount:a:b' })
      .setProtectedHeader({ alg: 'RS256', kid: 'rsa-1' })
      .setIssuer(issuer.url)
      .setAudience(AUD)
      .sign(rsa.privateKey)
    const err = await rejectionOf(verifyToken(jwt, { issuer: issuer.url, audience: AUD, now: NOW }))
    expect(err.code).toBe('ERR_TOKEN_INVALID')
    expect(err.message).toContain('no "exp" claim')
    expectNoLeak(err, signatureOf(jwt))
  })

  it('reload() warms the key set once, shared by concurrent callers', async () => {
    issuer = await startIssuer([rsa])
    const verify = createTokenVerifier({ issuer: issuer.url, audience: AUD })
    await Promise.all([verify.reload(), verify.reload(), verify.reload()])
    expect(issuer.hits).toEqual({ discovery: 1, jwks: 1 })
    await verify(await sign(rsa, issuer.url), { now: NOW })
    expect(issuer.hits).toEqual({ discovery: 1, jwks: 1 })
  })

  it('reports an unreachable issuer with ERR_NETWORK', async () => {
    issuer = await startIssuer([rsa])
    const url = issuer.url
    const jwt = await sign(rsa, url)
    await issuer.close()
    issuer = undefined
    const err = await rejectionOf(verifyToken(jwt, { issuer: url, audience: AUD, now: NOW }))
    expect(err.code).toBe('ERR_NETWORK')
    expect(err.message).toContain(
      `cannot fetch the OIDC discovery document from ${url}/.well-known/openid-configuration`,
    )
    expectNoLeak(err, signatureOf(jwt))
  })

  it('rejects a malformed token with ERR_TOKEN_INVALID', async () => {
    issuer = await startIssuer([rsa])
    const err = await rejectionOf(verifyToken('SECRETCANARY.x', { issuer: issuer.url, audience: AUD }))
    expect(err.code).toBe('ERR_TOKEN_INVALID')
    expectNoLeak(err, 'SECRETCANARY')
  })

  it('uses a given key set (no network) or a given JWKS URL (no discovery)', async () => {
    issuer = await startIssuer([rsa])
    const jwt = await sign(rsa, issuer.url)
    await verifyToken(jwt, { issuer: issuer.url, audience: AUD, now: NOW, jwks: { keys: [rsa.jwk] } })
    expect(issuer.hits).toEqual({ discovery: 0, jwks: 0 })
    await verifyToken(jwt, {
      issuer: issuer.url,
      audience: AUD,
      now: NOW,
      jwks: `${issuer.url}/openid/v1/jwks`,
    })
    expect(issuer.hits).toEqual({ discovery: 0, jwks: 1 })
  })

  it('reports a discovery document for another issuer, a bad status, and goes through the transport seam', async () => {
    issuer = await startIssuer([rsa])
    const jwt = await sign(rsa, issuer.url)
    issuer.discovery = () => ({
      status: 200,
      body: JSON.stringify({ issuer: 'https://other', jwks_uri: 'x' }),
    })
    const mismatch = await rejectionOf(
      createTokenVerifier({ issuer: issuer.url, audience: AUD })(jwt, { now: NOW }),
    )
    expect(mismatch.code).toBe('ERR_RESPONSE_INVALID')
    expect(mismatch.message).toContain('names issuer "https://other"')

    issuer.discovery = () => ({ status: 503, body: 'busy' })
    const status = await rejectionOf(
      createTokenVerifier({ issuer: issuer.url, audience: AUD })(jwt, { now: NOW }),
    )
    expect(status.code).toBe('ERR_HTTP_STATUS')
    expect((status as { status?: number }).status).toBe(503)

    issuer.discovery = (url) => ({
      status: 200,
      body: JSON.stringify({ issuer: url, jwks_uri: 'http://10.0.0.1/keys' }),
    })
    const plain = await rejectionOf(
      createTokenVerifier({ issuer: issuer.url, audience: AUD })(jwt, { now: NOW }),
    )
    expect(plain.code).toBe('ERR_ENDPOINT_NOT_ALLOWED')

    const seen: string[] = []
    const verify = createTokenVerifier({
      issuer: 'https://oidc.example/id/ABC',
      audience: AUD,
      transport: async (request) => {
        seen.push(request.url.href)
        return request.url.pathname.endsWith('openid-configuration')
          ? {
              status: 200,
              headers: {},
              body: JSON.stringify({
                issuer: 'https://oidc.example/id/ABC',
                jwks_uri: 'https://oidc.example/keys',
              }),
            }
          : { status: 200, headers: {}, body: JSON.stringify({ keys: [rsa.jwk] }) }
      },
    })
    const viaSeam = await verify(await sign(rsa, 'https://oidc.example/id/ABC'), { now: NOW })
    expect(viaSeam.claims.iss).toBe('https://oidc.example/id/ABC')
    expect(seen).toEqual([
      'https://oidc.example/id/ABC/.well-known/openid-configuration',
      'https://oidc.example/keys',
    ])
  })

  it('validates options with TypeErrors naming them', async () => {
    const base = { issuer: 'https://oidc.example', audience: AUD }
    expect(() => createTokenVerifier({ ...base, issuer: 'not a url' })).toThrow(/issuer/)
    expect(() => createTokenVerifier({ ...base, issuer: 'http://oidc.example' })).toThrow(
      /issuer must be an https/,
    )
    expect(() => createTokenVerifier({ ...base, audience: [] })).toThrow(/audience/)
    expect(() => createTokenVerifier({ ...base, algorithms: ['none'] })).toThrow(/algorithms/)
    expect(() => createTokenVerifier({ ...base, clockToleranceMs: -1 })).toThrow(/clockToleranceMs/)
    expect(() => createTokenVerifier({ ...base, cooldownMs: Number.NaN })).toThrow(/cooldownMs/)
    expect(() => createTokenVerifier({ ...base, jwks: 'ftp://x' })).toThrow(/jwks/)
    expect(() => createTokenVerifier({ ...base, jwks: {} as never })).toThrow(/jwks/)
    await expect(verifyToken('a.b.c', { ...base, timeoutMs: 0 })).rejects.toThrow(TypeError)
  })
})
