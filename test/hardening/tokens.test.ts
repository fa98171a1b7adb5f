// Issue 11, "Tokens": every broken token file, through readToken and through both providers,
// ends in a clear code with nothing sent; forged tokens (alg none, wrong audience) are refused by
// verifyToken and by the emulator's STS.
import { mkdir, symlink } from 'node:fs/promises'
import { join } from 'node:path'
import { fromContainer } from '@podcreds/container'
import type { Emulator } from '@podcreds/emulator'
import { startEmulator } from '@podcreds/emulator'
import { decodeToken, inspectToken, readToken, verifyToken } from '@podcreds/token'
import { fromWebIdentity } from '@podcreds/web-identity'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rejectionOf } from '../support/errors.js'
import { tempDir } from '../support/tempDir.js'
import type { Recorder } from './helpers.js'
import {
  agentBody,
  CANARY_TOKEN,
  CANARY_TOKEN_SIGNATURE,
  canaryToken,
  expectCode,
  expectErrorClean,
  startRecorder,
  stsBody,
} from './helpers.js'

let files: Awaited<ReturnType<typeof tempDir>>
let agent: Recorder
let sts: Recorder
const bad: Record<string, string> = {}

beforeAll(async () => {
  files = await tempDir('podcreds-hardening-')
  agent = await startRecorder((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(agentBody())
  })
  sts = await startRecorder((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/xml' }).end(stsBody())
  })
  bad['empty'] = await files.write('empty', '')
  bad['whitespace only'] = await files.write('whitespace', ' \n\t\r\n  \n')
  bad['a directory'] = join(files.dir, 'dir')
  await mkdir(bad['a directory'])
  bad['a symlink loop'] = join(files.dir, 'loop-a')
  await symlink(join(files.dir, 'loop-b'), bad['a symlink loop'])
  await symlink(join(files.dir, 'loop-a'), join(files.dir, 'loop-b'))
  bad['a dangling symlink'] = join(files.dir, 'dangling')
  await symlink(join(files.dir, 'nowhere'), bad['a dangling symlink'])
  bad['a 10 MiB file'] = await files.write('huge', Buffer.alloc(10 * 1024 * 1024, 0x41))
  bad['non-UTF-8 bytes'] = await files.write(
    'latin1',
    Buffer.concat([
      Buffer.from(CANARY_TOKEN.slice(0, 20)),
      Buffer.from([0xff, 0xfe, 0xe9]),
      Buffer.from(CANARY_TOKEN.slice(20)),
    ]),
  )
  bad['a missing file'] = join(files.dir, 'missing')
  bad['a path through a file'] = join(bad['empty'], 'token')
})

afterAll(async () => {
  await agent.close()
  await sts.close()
  await files.cleanup()
})

const BAD_FILES = [
  'empty',
  'whitespace only',
  'a directory',
  'a symlink loop',
  'a dangling symlink',
  'a 10 MiB file',
  'non-UTF-8 bytes',
  'a missing file',
  'a path through a file',
]

describe('broken token files → ERR_TOKEN_FILE, nothing sent', () => {
  it.each(BAD_FILES)('readToken: %s', async (name) => {
    const path = bad[name]!
    const error = await rejectionOf(readToken(path))
    expectCode(error, 'ERR_TOKEN_FILE')
    expect((error as Error).message).toContain(path)
  })

  it.each(BAD_FILES)('fromContainer: %s', async (name) => {
    const before = agent.hits.length
    const provider = fromContainer({
      fullUri: `${agent.origin}/v1/credentials`,
      authorizationTokenFile: bad[name]!,
      maxAttempts: 1,
      env: {},
    })
    expectCode(await rejectionOf(provider()), 'ERR_TOKEN_FILE')
    expect(agent.hits.length).toBe(before)
    // describe() reads the file the same way and fails the same way, sending nothing.
    expectCode(await rejectionOf(provider.describe()), 'ERR_TOKEN_FILE')
    expect(agent.hits.length).toBe(before)
  })

  it.each(BAD_FILES)('fromWebIdentity: %s', async (name) => {
    const before = sts.hits.length
    const provider = fromWebIdentity({
      tokenFile: bad[name]!,
      roleArn: 'arn:aws:iam::123456789012:role/hardening',
      region: 'eu-west-1',
      endpoint: sts.origin,
      maxAttempts: 1,
      env: {},
    })
    expectCode(await rejectionOf(provider()), 'ERR_TOKEN_FILE')
    expect(sts.hits.length).toBe(before)
  })
})

describe('CR/LF injection', () => {
  const injected = [
    ['CRLF + header', `${CANARY_TOKEN}\r\nX-Injected: yes`],
    ['bare LF', `${CANARY_TOKEN}\nX-Injected: yes`],
    ['bare CR', `${CANARY_TOKEN}\rX-Injected: yes`],
    ['request splitting', `${CANARY_TOKEN}\r\n\r\nGET /latest/meta-data/ HTTP/1.1\r\nHost: 169.254.169.254`],
    ['a NUL byte', `${CANARY_TOKEN}\u0000x`],
    ['a non-ASCII character', `${CANARY_TOKEN}é`],
  ] as const

  it.each(injected)(
    'container token file with %s → ERR_TOKEN_INVALID, nothing sent',
    async (_name, token) => {
      const path = await files.write(`inject-${_name.replace(/\W/g, '')}`, token)
      const before = agent.hits.length
      const provider = fromContainer({
        fullUri: `${agent.origin}/v1/credentials`,
        authorizationTokenFile: path,
        maxAttempts: 1,
        env: {},
      })
      expectCode(await rejectionOf(provider()), 'ERR_TOKEN_INVALID')
      expect(agent.hits.length).toBe(before)
    },
  )

  it.each(injected)(
    'container token in the environment with %s → ERR_TOKEN_INVALID, nothing sent',
    async (_name, token) => {
      const before = agent.hits.length
      const provider = fromContainer({
        env: {
          AWS_CONTAINER_CREDENTIALS_FULL_URI: `${agent.origin}/v1/credentials`,
          AWS_CONTAINER_AUTHORIZATION_TOKEN: token,
        },
        maxAttempts: 1,
      })
      expectCode(await rejectionOf(provider()), 'ERR_TOKEN_INVALID')
      expect(agent.hits.length).toBe(before)
    },
  )

  it.each(injected)('container token option with %s → TypeError at construction', (_name, token) => {
    let error: unknown
    try {
      fromContainer({ fullUri: `${agent.origin}/v1/credentials`, authorizationToken: token })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(TypeError)
    expectErrorClean(error)
  })

  it('trailing CR/LF (as editors and `echo` leave it) is trimmed, not refused', async () => {
    const path = await files.write('trailing', `${CANARY_TOKEN}\r\n\n`)
    const before = agent.hits.length
    await fromContainer({
      fullUri: `${agent.origin}/v1/credentials`,
      authorizationTokenFile: path,
      maxAttempts: 1,
      env: {},
    })()
    expect(agent.hits.length).toBe(before + 1)
    expect(agent.hits.at(-1)?.headers.authorization).toBe(CANARY_TOKEN)
  })

  it('web identity: a token with CR/LF travels form-encoded in the body, never as a header', async () => {
    const token = `${CANARY_TOKEN}\r\nX-Injected: yes`
    const path = await files.write('inject-sts', token)
    const before = sts.hits.length
    await fromWebIdentity({
      tokenFile: path,
      roleArn: 'arn:aws:iam::123456789012:role/hardening',
      region: 'eu-west-1',
      endpoint: sts.origin,
      maxAttempts: 1,
      env: {},
    })()
    expect(sts.hits.length).toBe(before + 1)
    const hit = sts.hits.at(-1)!
    expect(hit.headers['x-injected']).toBeUndefined()
    expect(new URLSearchParams(hit.body).get('WebIdentityToken')).toBe(token)
  })
})

describe('forged tokens', () => {
  let keys: Awaited<ReturnType<typeof generateKeyPair>>
  let jwks: { keys: Record<string, unknown>[] }
  const issuer = 'https://oidc.hardening.example/id/TEST'

  beforeAll(async () => {
    keys = await generateKeyPair('RS256')
    jwks = { keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] }
  })

  const sign = (claims: Record<string, unknown>) =>
    new SignJWT({ sub: 'system:serviceaccount:payments:api', ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(issuer)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(keys.privateKey)

  it('a correctly signed token verifies (control)', async () => {
    const token = await sign({ aud: 'sts.amazonaws.com' })
    const { claims } = await verifyToken(token, { issuer, audience: 'sts.amazonaws.com', jwks })
    expect(claims.sub).toBe('system:serviceaccount:payments:api')
  })

  it('alg: none → ERR_TOKEN_INVALID, even with the right claims', async () => {
    const token = canaryToken({ iss: issuer, aud: 'sts.amazonaws.com' }, { alg: 'none', kid: 'k1' })
    const unsigned = `${token.split('.').slice(0, 2).join('.')}.`
    for (const candidate of [token, unsigned]) {
      const error = await rejectionOf(verifyToken(candidate, { issuer, audience: 'sts.amazonaws.com', jwks }))
      expectCode(error, 'ERR_TOKEN_INVALID')
    }
    // `none` cannot be allowed on purpose either.
    await expect(
      (async () =>
        verifyToken(unsigned, { issuer, audience: 'sts.amazonaws.com', jwks, algorithms: ['none'] }))(),
    ).rejects.toThrow()
  })

  it('a token for the wrong audience → ERR_TOKEN_INVALID', async () => {
    const token = await sign({ aud: 'pods.eks.amazonaws.com' })
    const error = await rejectionOf(verifyToken(token, { issuer, audience: 'sts.amazonaws.com', jwks }))
    expectCode(error, 'ERR_TOKEN_INVALID')
    expect((error as Error).message).toMatch(/aud/)
  })

  it('a token signed by another key → ERR_TOKEN_INVALID', async () => {
    const other = await generateKeyPair('RS256')
    const token = await new SignJWT({ aud: 'sts.amazonaws.com' })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(issuer)
      .setExpirationTime('1h')
      .sign(other.privateKey)
    expectCode(
      await rejectionOf(verifyToken(token, { issuer, audience: 'sts.amazonaws.com', jwks })),
      'ERR_TOKEN_INVALID',
    )
  })

  it('decodeToken and inspectToken do not crash on alg none and never print the signature', () => {
    const token = canaryToken({}, { alg: 'none' })
    expect(decodeToken(token).header.alg).toBe('none')
    const inspection = inspectToken(token, { now: Date.now() })
    expect(JSON.stringify(inspection)).not.toContain(CANARY_TOKEN_SIGNATURE)
  })
})

describe('forged tokens against the emulator STS', () => {
  let emulator: Emulator
  beforeAll(async () => {
    emulator = await startEmulator()
  })
  afterAll(() => emulator.close())

  const exchange = async (token: string) => {
    const path = await files.write(`emulator-${Math.random().toString(16).slice(2)}`, token)
    return fromWebIdentity({
      env: { ...emulator.irsaEnv, AWS_WEB_IDENTITY_TOKEN_FILE: path },
      maxAttempts: 1,
    })()
  }

  it('a token the emulator minted for STS works (control)', async () => {
    const credentials = await exchange(await emulator.mintToken({ audience: 'sts.amazonaws.com' }))
    expect(credentials.accessKeyId).toBeTypeOf('string')
  })

  it('a token for the wrong audience → ERR_STS InvalidIdentityToken', async () => {
    const error = await rejectionOf(
      exchange(await emulator.mintToken({ audience: 'pods.eks.amazonaws.com' })),
    )
    expectCode(error, 'ERR_STS')
    expect((error as { stsCode?: string }).stsCode).toMatch(/InvalidIdentityToken/)
  })

  it('an alg none copy of a valid token → ERR_STS InvalidIdentityToken', async () => {
    const valid = await emulator.mintToken({ audience: 'sts.amazonaws.com' })
    const [, payload] = valid.split('.')
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')
    const error = await rejectionOf(exchange(`${header}.${payload}.`))
    expectCode(error, 'ERR_STS')
    expect((error as { stsCode?: string }).stsCode).toMatch(/InvalidIdentityToken/)
  })

  it('a token signed by a foreign key → ERR_STS InvalidIdentityToken', async () => {
    const error = await rejectionOf(
      exchange(await emulator.mintToken({ audience: 'sts.amazonaws.com', foreignKey: true })),
    )
    expectCode(error, 'ERR_STS')
  })
})
