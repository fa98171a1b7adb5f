import type {
  AwsCredentialIdentity,
  AwsCredentialIdentityProvider,
  TemporaryCredentials,
} from '@podcreds/core'
import type { RefreshingProvider } from '@podcreds/refresh'
import { refreshing } from '@podcreds/refresh'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { FakeClock } from '../../../test/support/fakeClock.js'

describe('types', () => {
  it('takes any AwsCredentialIdentityProvider and is one', async () => {
    const clock = new FakeClock()
    const sdkStyle: AwsCredentialIdentityProvider = async () => ({
      accessKeyId: 'ASIATYPES0000000001',
      secretAccessKey: 'x',
      expiration: new Date(clock.now() + 60 * 60_000),
    })
    const engine = refreshing(sdkStyle, { clock })
    expectTypeOf(engine).toEqualTypeOf<RefreshingProvider<AwsCredentialIdentity>>()
    expectTypeOf(engine).toExtend<AwsCredentialIdentityProvider>()
    const temporary = refreshing(async (): Promise<TemporaryCredentials> => {
      throw new Error('unused')
    })
    expectTypeOf(temporary).toExtend<AwsCredentialIdentityProvider>()
    expectTypeOf<Awaited<ReturnType<typeof temporary>>>().toEqualTypeOf<TemporaryCredentials>()
    expect((await engine()).accessKeyId).toBe('ASIATYPES0000000001')
    engine.close()
    temporary.close()
  })

  it('is generic over identities with an expiry, such as access tokens', async () => {
    const clock = new FakeClock()
    const tokens = refreshing(
      async () => ({
        token: 'eyJ...',
        expiresOnTimestamp: clock.now() + 3_600_000,
        expiration: new Date(clock.now() + 3_600_000),
      }),
      { clock, keyOf: (t) => t.token },
    )
    expectTypeOf(tokens).toEqualTypeOf<
      RefreshingProvider<{ token: string; expiresOnTimestamp: number; expiration: Date }>
    >()
    expect((await tokens()).token).toBe('eyJ...')
    tokens.close()
  })
})
