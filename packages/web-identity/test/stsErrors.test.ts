import type { FromWebIdentityOptions } from '@podcreds/web-identity'
import { fromWebIdentity } from '@podcreds/web-identity'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { credentialsErrorOf } from '../../../test/support/errors.js'
import type { KubeletTokenDir } from '../../../test/support/kubeletTokenDir.js'
import { kubeletTokenDir } from '../../../test/support/kubeletTokenDir.js'
import type { Answer, StsFake } from './helpers/stsFake.js'
import { DEFAULT_CREDENTIALS, errorXml, startStsFake, successXml } from './helpers/stsFake.js'
import { fixedClock, makeJwt } from './helpers/tokens.js'

const ROLE = 'arn:aws:iam::123456789012:role/app-role'
const TOKEN = makeJwt()

let sts: StsFake
let tokens: KubeletTokenDir

beforeEach(async () => {
  sts = await startStsFake()
  tokens = await kubeletTokenDir({ token: TOKEN })
})
afterEach(async () => {
  await sts.close()
  await tokens.remove()
})

function options(extra: FromWebIdentityOptions = {}): FromWebIdentityOptions {
  return {
    roleArn: ROLE,
    tokenFile: tokens.path,
    endpoint: sts.url,
    clock: fixedClock(),
    random: () => 0,
    env: {},
    ...extra,
  }
}

const stsError = (status: number, code: string, message = `${code} happened`): Answer => ({
  status,
  body: errorXml(code, message),
})

describe('STS error answers', () => {
  it('surfaces an ErrorResponse as ERR_STS with stsCode, status and the message', async () => {
    sts.answer(stsError(403, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity'))
    const error = await credentialsErrorOf(fromWebIdentity(options())())

    expect(error.code).toBe('ERR_STS')
    expect(error.stsCode).toBe('AccessDenied')
    expect(error.status).toBe(403)
    expect(error.retryable).toBe(false)
    expect(error.tryNextLink).toBe(false)
    expect(error.message).toContain('Not authorized to perform sts:AssumeRoleWithWebIdentity')
    expect(error.message).toContain(ROLE)
  })

  it.each([
    [403, 'AccessDenied'],
    [400, 'IDPRejectedClaim'],
    [400, 'ExpiredToken'],
    [400, 'ExpiredTokenException'],
    [400, 'MalformedPolicyDocument'],
    [403, 'RegionDisabled'],
    [403, 'RegionDisabledException'],
    [400, 'InvalidParameterValue'],
  ])('HTTP %i %s is non-recoverable: one request, retryable false', async (status, code) => {
    sts.answer(stsError(status, code))
    const error = await credentialsErrorOf(fromWebIdentity(options())())

    expect(error.stsCode).toBe(code)
    expect(error.retryable).toBe(false)
    expect(sts.requests).toHaveLength(1)
  })

  it.each([
    [400, 'IDPCommunicationError'],
    [400, 'Throttling'],
    [400, 'ThrottlingException'],
    [429, 'TooManyRequests'],
    [500, 'InternalFailure'],
    [503, 'ServiceUnavailable'],
  ])('HTTP %i %s is retried up to maxAttempts, then raised as retryable', async (status, code) => {
    sts.answer(stsError(status, code))
    const error = await credentialsErrorOf(fromWebIdentity(options())())

    expect(error.code).toBe('ERR_STS')
    expect(error.stsCode).toBe(code)
    expect(error.retryable).toBe(true)
    expect(sts.requests).toHaveLength(3)
  })

  it('recovers when a retry succeeds, and logs each retry at debug level', async () => {
    sts.answer(stsError(400, 'IDPCommunicationError'), stsError(400, 'Throttling'), { body: successXml() })
    const debug: [string, Record<string, unknown> | undefined][] = []
    const creds = await fromWebIdentity(
      options({ logger: { debug: (message, fields) => debug.push([message, fields]) } }),
    )()

    expect(creds.accessKeyId).toBe(DEFAULT_CREDENTIALS.accessKeyId)
    expect(sts.requests).toHaveLength(3)
    const retries = debug.filter(([message]) => message.includes('retrying'))
    expect(retries.map(([, fields]) => fields?.stsCode)).toEqual(['IDPCommunicationError', 'Throttling'])
  })

  it('honours maxAttempts: 1 (no retry) and bounds retries by maxAttempts', async () => {
    sts.answer(stsError(503, 'ServiceUnavailable'))
    await credentialsErrorOf(fromWebIdentity(options({ maxAttempts: 1 }))())
    expect(sts.requests).toHaveLength(1)

    await credentialsErrorOf(fromWebIdentity(options({ maxAttempts: 5 }))())
    expect(sts.requests).toHaveLength(6)
  })

  it('draws the back-off from the injected random (full jitter)', async () => {
    sts.answer(stsError(400, 'Throttling'))
    const delays: unknown[] = []
    const draws: number[] = []
    await credentialsErrorOf(
      fromWebIdentity(
        options({
          random: () => {
            draws.push(0.5)
            return 0.5
          },
          logger: {
            debug: (message, fields) => message.includes('retrying') && delays.push(fields?.delayMs),
          },
        }),
      )(),
    )
    // Full jitter: uniform in [0, min(cap, 100 ms · 2^(n-1))), here 0.5 of 100 and of 200.
    expect(delays).toEqual([50, 100])
    expect(draws.length).toBeGreaterThanOrEqual(2)
  })

  it('retries network errors (a reset connection) and then succeeds', async () => {
    sts.answer({ destroy: true }, { body: successXml() })
    const creds = await fromWebIdentity(options())()
    expect(creds.accessKeyId).toBe(DEFAULT_CREDENTIALS.accessKeyId)
    expect(sts.requests).toHaveLength(2)
  })

  it('gives up on persistent network errors with a retryable ERR_NETWORK', async () => {
    sts.answer({ destroy: true })
    const error = await credentialsErrorOf(fromWebIdentity(options())())
    expect(error.code).toBe('ERR_NETWORK')
    expect(error.retryable).toBe(true)
    expect(sts.requests).toHaveLength(3)
  })

  it('times out a silent STS with a retryable ERR_HTTP_TIMEOUT, per attempt', async () => {
    sts.answer({ hang: true })
    const error = await credentialsErrorOf(fromWebIdentity(options({ timeoutMs: 50, maxAttempts: 2 }))())
    expect(error.code).toBe('ERR_HTTP_TIMEOUT')
    expect(error.retryable).toBe(true)
    expect(sts.requests).toHaveLength(2)
  })

  it('judges a non-XML error body (a proxy page, an empty 502) by its status', async () => {
    sts.answer({ status: 502, body: '<html><body>Bad Gateway</body>' })
    const error = await credentialsErrorOf(fromWebIdentity(options())())
    expect(error.code).toBe('ERR_HTTP_STATUS')
    expect(error.status).toBe(502)
    expect(error.retryable).toBe(true)
    expect(sts.requests).toHaveLength(3)

    sts.answer({ status: 404, body: '' })
    const notFound = await credentialsErrorOf(fromWebIdentity(options())())
    expect(notFound.code).toBe('ERR_HTTP_STATUS')
    expect(notFound.retryable).toBe(false)
  })

  it('never follows a redirect', async () => {
    sts.answer({ status: 307, body: '' })
    const error = await credentialsErrorOf(fromWebIdentity(options())())
    expect(error.code).toBe('ERR_HTTP_STATUS')
    expect(error.status).toBe(307)
    expect(sts.requests).toHaveLength(1)
  })

  it('caps and scrubs the server message', async () => {
    sts.answer(stsError(400, 'InvalidParameterValue', `echo ${TOKEN} ${'x'.repeat(2000)}`))
    const error = await credentialsErrorOf(fromWebIdentity(options())())
    expect(error.message).not.toContain(TOKEN)
    expect(error.message).toContain('[redacted]')
    expect(error.message.length).toBeLessThan(600)
  })
})

describe('InvalidIdentityToken', () => {
  it('re-reads the token file once and retries with the fresh token: a rotation race recovers', async () => {
    const rotated = makeJwt({ jti: 'rotated' })
    sts.answer(stsError(400, 'InvalidIdentityToken', 'Token is expired'), (request) =>
      request.form.get('WebIdentityToken') === rotated
        ? { body: successXml() }
        : stsError(400, 'InvalidIdentityToken', 'still the old token'),
    )
    const readFile = async (path: string): Promise<Uint8Array> => {
      const { readFile: read } = await import('node:fs/promises')
      const bytes = await read(path)
      // After the first read, kubelet rotates: the next read sees the new token.
      if (sts.requests.length === 0) await tokens.write(rotated)
      return bytes
    }
    const creds = await fromWebIdentity(options({ readFile }))()

    expect(creds.accessKeyId).toBe(DEFAULT_CREDENTIALS.accessKeyId)
    expect(sts.requests.map((request) => request.form.get('WebIdentityToken'))).toEqual([TOKEN, rotated])
  })

  it('stops after one re-read: a second InvalidIdentityToken is non-recoverable', async () => {
    sts.answer(stsError(400, 'InvalidIdentityToken', 'Incorrect token audience'))
    const error = await credentialsErrorOf(fromWebIdentity(options({ maxAttempts: 5 }))())

    expect(error.code).toBe('ERR_STS')
    expect(error.stsCode).toBe('InvalidIdentityToken')
    expect(error.retryable).toBe(false)
    expect(sts.requests).toHaveLength(2)
  })
})
