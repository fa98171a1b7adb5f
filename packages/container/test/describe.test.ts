import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { fromContainer } from '@podcreds/container'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { rejectionOf } from '../../../test/support/errors.js'
import { assertNoSecret } from '../../../test/support/secrets.js'
import type { FakeAgent } from './fakeAgent.js'
import { startAgent } from './fakeAgent.js'

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
const SIGNATURE_CANARY = 'SECRETCANARYsignature0123456789'
const EXP = Date.UTC(2030, 0, 1) / 1000
const JWT = [
  b64({ alg: 'RS256', kid: 'key-1' }),
  b64({
    iss: 'https://oidc.eks.eu-west-1.amazonaws.com/id/ABC',
    sub: 'system:serviceaccount:shop:checkout',
    aud: ['pods.eks.amazonaws.com'],
    exp: EXP,
    iat: EXP - 86_400,
  }),
  SIGNATURE_CANARY,
].join('.')

let agent: FakeAgent
let dir: string

beforeEach(async () => {
  agent = await startAgent()
  dir = await mkdtemp(join(tmpdir(), 'podcreds-container-describe-'))
})

afterEach(async () => {
  await agent.close()
  await rm(dir, { recursive: true, force: true })
})

describe('fromContainer().describe()', () => {
  it('reports the endpoint, the token file and its claims, never the token, sending nothing', async () => {
    const path = join(dir, 'eks-pod-identity-token')
    await writeFile(path, `${JWT}\n`)
    const description = await fromContainer({
      env: {
        AWS_CONTAINER_CREDENTIALS_FULL_URI: `${agent.url}?query=hidden`,
        AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: path,
      },
      // An hour before the token's exp: describe() judges expiry with the injected clock.
      clock: { now: () => EXP * 1000 - 3_600_000, setTimeout, clearTimeout },
    }).describe()

    expect(description.configured).toBe(true)
    expect(description.details).toEqual({
      uri: agent.url,
      uriSource: 'AWS_CONTAINER_CREDENTIALS_FULL_URI',
      tokenSource: 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
      tokenFile: path,
      tokenFileReadable: 'yes',
      tokenFormat: 'jwt',
      tokenIssuer: 'https://oidc.eks.eu-west-1.amazonaws.com/id/ABC',
      tokenSubject: 'system:serviceaccount:shop:checkout',
      tokenAudience: 'pods.eks.amazonaws.com',
      tokenExpiresAt: '2030-01-01T00:00:00.000Z',
      tokenExpired: 'no',
    })
    expect(description.reason).toContain(agent.url)
    expect(description.reason).toContain(path)
    const printed = `${inspect(description, { depth: 5 })}${JSON.stringify(description)}`
    expect(printed).not.toContain(SIGNATURE_CANARY)
    expect(printed).not.toContain(JWT.split('.')[1])
    expect(agent.hits).toHaveLength(0)
  })

  it('reports an inline opaque token by its source only', async () => {
    const token = 'SECRETCANARYopaque-ecs-token'
    const description = await fromContainer({
      env: {
        AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/v2/credentials/task',
        AWS_CONTAINER_AUTHORIZATION_TOKEN: token,
      },
    }).describe()
    expect(description.configured).toBe(true)
    expect(description.details).toEqual({
      uri: 'http://169.254.170.2/v2/credentials/task',
      uriSource: 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
      tokenSource: 'AWS_CONTAINER_AUTHORIZATION_TOKEN',
      tokenFormat: 'opaque',
    })
    expect(JSON.stringify(description)).not.toContain(token)
  })

  it('names option sources and a missing token', async () => {
    const description = await fromContainer({ fullUri: agent.url, env: {} }).describe()
    expect(description.details).toEqual({ uri: agent.url, uriSource: 'option fullUri', tokenSource: 'none' })
    expect(description.reason).toContain('without a token')
  })

  it('answers configured: false when neither URI is set', async () => {
    const description = await fromContainer({ env: { AWS_CONTAINER_AUTHORIZATION_TOKEN: 'x' } }).describe()
    expect(description.configured).toBe(false)
    expect(description.reason).toContain('AWS_CONTAINER_CREDENTIALS_FULL_URI')
    expect(description.details).toEqual({})
  })

  it('rejects with the error a call would give for an unreadable token file or a bad endpoint', async () => {
    const missing = join(dir, 'missing-token')
    const tokenErr = await rejectionOf(
      fromContainer({
        env: {
          AWS_CONTAINER_CREDENTIALS_FULL_URI: agent.url,
          AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: missing,
        },
      }).describe(),
    )
    expect(tokenErr.code).toBe('ERR_TOKEN_FILE')
    expect(tokenErr.message).toContain(missing)

    const endpointErr = await rejectionOf(
      fromContainer({ env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://169.254.169.254/' } }).describe(),
    )
    expect(endpointErr.code).toBe('ERR_ENDPOINT_NOT_ALLOWED')

    const crlf = join(dir, 'crlf-token')
    await writeFile(crlf, 'SECRETCANARYcrlf\r\nX: 1')
    const crlfErr = await rejectionOf(
      fromContainer({
        env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: agent.url, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: crlf },
      }).describe(),
    )
    expect(crlfErr.code).toBe('ERR_TOKEN_INVALID')
    assertNoSecret(crlfErr, ['SECRETCANARYcrlf'])
    expect(agent.hits).toHaveLength(0)
  })
})
