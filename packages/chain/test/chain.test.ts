import { chain } from '@podcreds/chain'
import { CredentialsError } from '@podcreds/core'
import { describe, expect, it } from 'vitest'
import { credentials, expectNoSecret, fakeLink, SdkLikeProviderError } from './helpers.js'

describe('chain()', () => {
  it('returns the first link that resolves and calls no later link', async () => {
    const first = fakeLink({ kind: 'ok', credentials: credentials('ASIAFIRSTLINK0000001') })
    const second = fakeLink({ kind: 'ok', credentials: credentials('ASIASECONDLINK000002') })

    const result = await chain(first, second)()

    expect(result.accessKeyId).toBe('ASIAFIRSTLINK0000001')
    expect(second.calls).toBe(0)
  })

  it('skips links that are not configured (tryNextLink) and passes identity properties through', async () => {
    const skipped = fakeLink({ kind: 'not-configured' })
    const seen: unknown[] = []
    const working = async (props?: Record<string, unknown>) => {
      seen.push(props)
      return credentials('ASIAWORKINGLINK00003')
    }

    const result = await chain(skipped, working)({ callerClientConfig: { region: 'eu-west-1' } })

    expect(result.accessKeyId).toBe('ASIAWORKINGLINK00003')
    expect(skipped.calls).toBe(1)
    expect(seen).toEqual([{ callerClientConfig: { region: 'eu-west-1' } }])
  })

  it("moves on past the AWS SDK's ProviderError with tryNextLink, and stops on one without", async () => {
    const sdkSkip = async () => {
      throw new SdkLikeProviderError('Profile default not found', true)
    }
    const next = fakeLink({ kind: 'ok', credentials: credentials('ASIAAFTERSDKLINK0004') })
    await expect(chain(sdkSkip, next)()).resolves.toMatchObject({ accessKeyId: 'ASIAAFTERSDKLINK0004' })

    const sdkBroken = new SdkLikeProviderError('SSO token expired', false)
    const never = fakeLink({ kind: 'ok', credentials: credentials('ASIANEVERCALLED00005') })
    await expect(
      chain(async () => {
        throw sdkBroken
      }, never)(),
    ).rejects.toBe(sdkBroken)
    expect(never.calls).toBe(0)
  })

  it('stops at a configured but broken link with its own error, never a later link’s', async () => {
    const brokenError = new CredentialsError('cannot read token file /var/run/token: ENOENT', {
      code: 'ERR_TOKEN_FILE',
    })
    const skipped = fakeLink({ kind: 'not-configured' })
    const broken = fakeLink({ kind: 'broken', error: brokenError })
    const later = fakeLink({ kind: 'ok', credentials: credentials('ASIALATERLINK0000006') })

    const error = await chain(skipped, broken, later)().catch((e: unknown) => e)

    expect(error).toBe(brokenError)
    expect(later.calls).toBe(0)
  })

  it('stops on a thrown non-error value, unchanged', async () => {
    const later = fakeLink({ kind: 'ok', credentials: credentials('ASIALATERLINK0000007') })
    await expect(chain(() => Promise.reject('plain string'), later)()).rejects.toBe('plain string')
    expect(later.calls).toBe(0)
  })

  it('treats a link that throws synchronously like one that rejects', async () => {
    const sync = (() => {
      throw new CredentialsError('not here', { code: 'ERR_NOT_CONFIGURED' })
    }) as unknown as () => Promise<never>
    const next = fakeLink({ kind: 'ok', credentials: credentials('ASIAAFTERSYNCTHROW08') })
    await expect(chain(sync, next)()).resolves.toMatchObject({ accessKeyId: 'ASIAAFTERSYNCTHROW08' })
  })

  it('rejects with ERR_CHAIN_EXHAUSTED (tryNextLink) listing every link and why, in order', async () => {
    const env = fakeLink({ kind: 'not-configured', reason: 'AWS_ACCESS_KEY_ID is not set' })
    const container = fakeLink({ kind: 'not-configured', reason: 'no AWS_CONTAINER_CREDENTIALS_FULL_URI' })
    const sdk = async () => {
      throw new SdkLikeProviderError('EC2 Instance Metadata Service access disabled', true)
    }

    const error = await chain(
      { name: 'env', provider: env },
      { name: 'container', provider: container },
      { name: 'sdk', provider: sdk },
    )().catch((e: unknown) => e)

    expect(error).toBeInstanceOf(CredentialsError)
    const err = error as CredentialsError
    expect(err.code).toBe('ERR_CHAIN_EXHAUSTED')
    expect(err.tryNextLink).toBe(true)
    expect(err.message).toBe(
      [
        'no credentials: all 3 links of the chain were skipped',
        '  - env: AWS_ACCESS_KEY_ID is not set',
        '  - container: no AWS_CONTAINER_CREDENTIALS_FULL_URI',
        '  - sdk: EC2 Instance Metadata Service access disabled',
      ].join('\n'),
    )
    expect(err.cause).toBeInstanceOf(AggregateError)
    expect((err.cause as AggregateError).errors).toHaveLength(3)
  })

  it('lets an outer chain move on past an exhausted inner chain', async () => {
    const inner = chain(fakeLink({ kind: 'not-configured' }))
    const outer = chain(inner, fakeLink({ kind: 'ok', credentials: credentials('ASIAOUTERCHAINLINK09') }))
    await expect(outer()).resolves.toMatchObject({ accessKeyId: 'ASIAOUTERCHAINLINK09' })
  })

  it('remembers the link that worked and starts there next time', async () => {
    const first = fakeLink({ kind: 'not-configured' })
    const second = fakeLink({ kind: 'ok', credentials: credentials('ASIASECONDLINK000010') })
    const provider = chain({ name: 'first', provider: first }, { name: 'second', provider: second })
    expect(provider.lastLink()).toBeUndefined()

    await provider()
    await provider()
    await provider()

    expect(provider.lastLink()).toBe('second')
    expect(first.calls).toBe(1)
    expect(second.calls).toBe(3)
  })

  it('falls back to the full order when the remembered link says it is not configured any more', async () => {
    const first = fakeLink({ kind: 'not-configured' })
    const second = fakeLink({ kind: 'ok', credentials: credentials('ASIASECONDLINK000011') })
    const third = fakeLink({ kind: 'ok', credentials: credentials('ASIATHIRDLINK0000011') })
    const provider = chain(
      { name: 'first', provider: first },
      { name: 'second', provider: second },
      { name: 'third', provider: third },
    )
    await provider()
    second.behaviour = { kind: 'not-configured' }
    first.behaviour = { kind: 'ok', credentials: credentials('ASIAFIRSTLINK0000011') }

    const result = await provider()

    expect(result.accessKeyId).toBe('ASIAFIRSTLINK0000011')
    expect(provider.lastLink()).toBe('first')
    // The remembered link is not asked twice in one call.
    expect(second.calls).toBe(2)
    expect(third.calls).toBe(0)
  })

  it('lists every link once, in order, when the remembered link and all others are skipped', async () => {
    const first = fakeLink({ kind: 'not-configured', reason: 'one' })
    const second = fakeLink({ kind: 'ok', credentials: credentials('ASIASECONDLINK000012') })
    const provider = chain({ name: 'a', provider: first }, { name: 'b', provider: second })
    await provider()
    second.behaviour = { kind: 'not-configured', reason: 'two' }

    const error = (await provider().catch((e: unknown) => e)) as CredentialsError

    expect(error.code).toBe('ERR_CHAIN_EXHAUSTED')
    expect(error.message.split('\n').slice(1)).toEqual(['  - a: one', '  - b: two'])
    expect(provider.lastLink()).toBeUndefined()
  })

  it('stops with the remembered link’s own error when it breaks, and keeps remembering it', async () => {
    const first = fakeLink({ kind: 'ok', credentials: credentials('ASIAFIRSTLINK0000013') })
    const second = fakeLink({ kind: 'not-configured' })
    const provider = chain({ name: 'first', provider: first }, { name: 'second', provider: second })
    await provider()
    const agentDown = new CredentialsError('agent answered 500', { code: 'ERR_HTTP_STATUS', status: 500 })
    first.behaviour = { kind: 'broken', error: agentDown }

    await expect(provider()).rejects.toBe(agentDown)
    expect(second.calls).toBe(0)
    expect(provider.lastLink()).toBe('first')
  })

  it('names unnamed links after their function, or by position', async () => {
    async function fromSomewhere(): Promise<never> {
      throw new CredentialsError('nothing', { code: 'ERR_NOT_CONFIGURED' })
    }
    const anonymous = [
      async (): Promise<never> => {
        throw new CredentialsError('nothing either', { code: 'ERR_NOT_CONFIGURED' })
      },
    ][0]!

    const error = (await chain(fromSomewhere, anonymous)().catch((e: unknown) => e)) as CredentialsError

    expect(error.message).toContain('  - fromSomewhere: nothing')
    expect(error.message).toContain('  - link 2: nothing either')
  })

  it('keeps each reason on one line and caps it', async () => {
    const chatty = async () => {
      throw new CredentialsError(`first line\nsecond line ${'x'.repeat(1000)}`, {
        code: 'ERR_NOT_CONFIGURED',
      })
    }
    const error = (await chain({ name: 'chatty', provider: chatty })().catch((e: unknown) => e)) as Error
    const lines = error.message.split('\n')
    expect(lines).toHaveLength(2)
    expect(lines[1]!.startsWith('  - chatty: first line second line x')).toBe(true)
    expect(lines[1]!.length).toBeLessThan(400)
  })

  it('returns the credentials untouched and leaks no secret in the exhausted error', async () => {
    const creds = credentials('ASIAUNTOUCHED0000014')
    await expect(chain(async () => creds)()).resolves.toBe(creds)

    const error = await chain(fakeLink({ kind: 'not-configured' }))().catch((e: unknown) => e)
    expectNoSecret(error)
  })

  it('describe() names the first configured link from configuration only', async () => {
    const skipped = fakeLink({ kind: 'not-configured', reason: 'nothing here' })
    const configured = fakeLink({ kind: 'ok', credentials: credentials('ASIADESCRIBED0000015') })
    const provider = chain({ name: 'a', provider: skipped }, { name: 'b', provider: configured })

    const description = await provider.describe()

    expect(description).toEqual({
      configured: true,
      reason: 'b: set up',
      details: { a: 'not configured: nothing here', b: 'configured: set up' },
    })
    expect(configured.calls).toBe(0)
    await expect(chain(skipped).describe()).resolves.toMatchObject({ configured: false })
  })

  it('describe() rejects with a broken link’s error', async () => {
    const brokenError = new CredentialsError('bad uri', { code: 'ERR_INVALID_CONFIG' })
    await expect(chain(fakeLink({ kind: 'broken', error: brokenError })).describe()).rejects.toBe(brokenError)
  })

  it('throws TypeError for no links or a link that is not a provider', () => {
    expect(() => chain()).toThrow(TypeError)
    expect(() => chain()).toThrow('chain() needs at least one link')
    expect(() => chain('nope' as never)).toThrow(
      'links[0] must be a credentials provider or { name, provider }',
    )
    expect(() => chain({ name: '', provider: async () => credentials('x') })).toThrow(
      'links[0].name must be a non-empty string',
    )
    expect(() => chain(fakeLink({ kind: 'not-configured' }), { name: 'x', provider: 1 } as never)).toThrow(
      'links[1].provider must be a function',
    )
  })
})
