import { inspect } from 'node:util'
import { fromEnv } from '@podcreds/chain'
import type { Clock } from '@podcreds/core'
import { CredentialsError } from '@podcreds/core'
import { describe, expect, it } from 'vitest'
import { CANARY_SECRET, CANARY_TOKEN, expectNoSecret } from './helpers.js'

const KEY_ID = 'ASIAENVKEYS000000001'
const NOW = Date.parse('2026-01-01T00:00:00Z')
const clock: Clock = { now: () => NOW, setTimeout: () => undefined, clearTimeout: () => undefined }

async function failure(env: Record<string, string | undefined>): Promise<CredentialsError> {
  const error = await fromEnv({ env, clock })().catch((e: unknown) => e)
  expect(error).toBeInstanceOf(CredentialsError)
  return error as CredentialsError
}

describe('fromEnv()', () => {
  it('reads static keys with session token, expiration and account id', async () => {
    const provider = fromEnv({
      clock,
      env: {
        AWS_ACCESS_KEY_ID: KEY_ID,
        AWS_SECRET_ACCESS_KEY: CANARY_SECRET,
        AWS_SESSION_TOKEN: CANARY_TOKEN,
        AWS_CREDENTIAL_EXPIRATION: '2026-01-01T02:00:00+01:00',
        AWS_ACCOUNT_ID: '111122223333',
      },
    })

    const creds = await provider()

    expect({ ...creds }).toEqual({
      accessKeyId: KEY_ID,
      secretAccessKey: CANARY_SECRET,
      sessionToken: CANARY_TOKEN,
      expiration: new Date('2026-01-01T01:00:00.000Z'),
      accountId: '111122223333',
    })
  })

  it('honours an expiration offset and reads one without a zone as UTC', async () => {
    const base = { AWS_ACCESS_KEY_ID: KEY_ID, AWS_SECRET_ACCESS_KEY: CANARY_SECRET }
    const withOffset = await fromEnv({
      clock,
      env: { ...base, AWS_CREDENTIAL_EXPIRATION: '2026-01-01T03:00:00+02:00' },
    })()
    expect(withOffset.expiration?.toISOString()).toBe('2026-01-01T01:00:00.000Z')
    const noZone = await fromEnv({
      clock,
      env: { ...base, AWS_CREDENTIAL_EXPIRATION: '2026-01-01T02:30:00' },
    })()
    expect(noZone.expiration?.toISOString()).toBe('2026-01-01T02:30:00.000Z')
  })

  it('returns long-term keys without session token or expiration', async () => {
    const creds = await fromEnv({
      env: { AWS_ACCESS_KEY_ID: KEY_ID, AWS_SECRET_ACCESS_KEY: CANARY_SECRET },
    })()
    expect({ ...creds }).toEqual({ accessKeyId: KEY_ID, secretAccessKey: CANARY_SECRET })
  })

  it('prints the credentials redacted', async () => {
    const creds = await fromEnv({
      env: {
        AWS_ACCESS_KEY_ID: KEY_ID,
        AWS_SECRET_ACCESS_KEY: CANARY_SECRET,
        AWS_SESSION_TOKEN: CANARY_TOKEN,
      },
    })()
    expectNoSecret(creds)
    expect(inspect(creds)).toContain('ASIA…0001')
  })

  it('is not configured (tryNextLink) when neither key is set, or the values are blank', async () => {
    for (const env of [
      {},
      { AWS_ACCESS_KEY_ID: '  ', AWS_SECRET_ACCESS_KEY: '' },
      { AWS_SESSION_TOKEN: CANARY_TOKEN },
    ]) {
      const error = await failure(env)
      expect(error.code).toBe('ERR_NOT_CONFIGURED')
      expect(error.tryNextLink).toBe(true)
      expect(error.message).toBe('env: neither AWS_ACCESS_KEY_ID nor AWS_SECRET_ACCESS_KEY is set')
    }
  })

  it('stops a chain (ERR_INVALID_CONFIG) when only one of the two keys is set, naming the missing one', async () => {
    const onlySecret = await failure({
      AWS_SECRET_ACCESS_KEY: CANARY_SECRET,
      AWS_SESSION_TOKEN: CANARY_TOKEN,
    })
    expect(onlySecret.code).toBe('ERR_INVALID_CONFIG')
    expect(onlySecret.tryNextLink).toBe(false)
    expect(onlySecret.message).toBe('env: AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not')
    expectNoSecret(onlySecret)

    const onlyKey = await failure({ AWS_ACCESS_KEY_ID: KEY_ID })
    expect(onlyKey.code).toBe('ERR_INVALID_CONFIG')
    expect(onlyKey.message).toBe('env: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not')
  })

  it.each([
    ['unparsable', ['tomorrow', '2026-13-45T99:00:00Z', `2026-01-01T00:00:00Z${CANARY_SECRET}`]],
    // Date would roll these over (Feb 30 to March 2): strict parsing rejects them.
    [
      'out-of-range (Feb 30, Feb 29 of 2026, hour 24)',
      ['2026-02-30T00:00:00Z', '2026-02-29T00:00:00Z', '2026-06-01T24:00:00Z'],
    ],
  ])(
    'rejects an %s AWS_CREDENTIAL_EXPIRATION (ERR_INVALID_CONFIG) without echoing any value',
    async (_kind, values) => {
      for (const bad of values) {
        const error = await failure({
          AWS_ACCESS_KEY_ID: KEY_ID,
          AWS_SECRET_ACCESS_KEY: CANARY_SECRET,
          AWS_SESSION_TOKEN: CANARY_TOKEN,
          AWS_CREDENTIAL_EXPIRATION: bad,
        })
        expect(error.code).toBe('ERR_INVALID_CONFIG')
        expect(error.message).toBe('env: AWS_CREDENTIAL_EXPIRATION is not an RFC 3339 date-time')
        expectNoSecret(error)
      }
    },
  )

  it('rejects credentials whose expiration has passed (ERR_CREDENTIALS_EXPIRED)', async () => {
    const error = await failure({
      AWS_ACCESS_KEY_ID: KEY_ID,
      AWS_SECRET_ACCESS_KEY: CANARY_SECRET,
      AWS_SESSION_TOKEN: CANARY_TOKEN,
      AWS_CREDENTIAL_EXPIRATION: '2025-12-31T23:59:59Z',
    })
    expect(error.code).toBe('ERR_CREDENTIALS_EXPIRED')
    expect(error.tryNextLink).toBe(false)
    expect(error.message).toBe(
      'env: the credentials expired at 2025-12-31T23:59:59.000Z (AWS_CREDENTIAL_EXPIRATION)',
    )
    expectNoSecret(error)
  })

  it('reads the environment on every call', async () => {
    const env: Record<string, string | undefined> = {}
    const provider = fromEnv({ env })
    await expect(provider()).rejects.toMatchObject({ code: 'ERR_NOT_CONFIGURED' })
    env['AWS_ACCESS_KEY_ID'] = KEY_ID
    env['AWS_SECRET_ACCESS_KEY'] = CANARY_SECRET
    await expect(provider()).resolves.toMatchObject({ accessKeyId: KEY_ID })
  })

  it('describe() reports the configuration redacted, and rejects like a call when broken', async () => {
    const described = await fromEnv({
      clock,
      env: {
        AWS_ACCESS_KEY_ID: KEY_ID,
        AWS_SECRET_ACCESS_KEY: CANARY_SECRET,
        AWS_SESSION_TOKEN: CANARY_TOKEN,
        AWS_CREDENTIAL_EXPIRATION: '2026-01-01T01:00:00Z',
        AWS_ACCOUNT_ID: '111122223333',
      },
    }).describe()
    expect(described).toEqual({
      configured: true,
      reason: 'temporary keys from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (ASIA…0001)',
      details: {
        accessKeyId: 'ASIA…0001',
        sessionToken: 'set',
        expiration: '2026-01-01T01:00:00.000Z',
        accountId: '111122223333',
      },
    })
    expectNoSecret(described)

    await expect(fromEnv({ env: {} }).describe()).resolves.toEqual({
      configured: false,
      reason: 'env: neither AWS_ACCESS_KEY_ID nor AWS_SECRET_ACCESS_KEY is set',
      details: {},
    })
    await expect(fromEnv({ env: { AWS_ACCESS_KEY_ID: KEY_ID } }).describe()).rejects.toMatchObject({
      code: 'ERR_INVALID_CONFIG',
    })
  })

  it('throws TypeError for malformed options', () => {
    expect(() => fromEnv(null as never)).toThrow('options must be an object')
    expect(() => fromEnv({ env: 'AWS_ACCESS_KEY_ID=x' as never })).toThrow(
      'env must be an object of environment variables',
    )
    expect(() => fromEnv({ clock: {} as never })).toThrow(TypeError)
  })
})
