import type { AwsCredentialIdentity } from '@podcreds/core'
import { CredentialsError } from '@podcreds/core'
import type { FakeClock } from '../../../test/support/fakeClock.js'

export const SECOND = 1_000
export const MINUTE = 60 * SECOND
export const HOUR = 60 * MINUTE

/** What the scripted source answers next. */
export type Answer = 'fresh' | 'same' | 'error' | 'nonRecoverable' | 'stale'

/**
 * A scripted credential source on a fake clock: `answer` says what it returns; `fresh` mints new
 * credentials (`ASIA…0001`, `…0002`) valid for `lifetimeMs` from now. Secrets carry a canary.
 */
export class ScriptedSource {
  answer: Answer = 'fresh'
  lifetimeMs = HOUR
  nextKeyId: string | undefined
  calls: number[] = []
  last: AwsCredentialIdentity | undefined
  /** When set, every call throws it (a foreign error, e.g. one that echoes a secret). */
  throwNext: Error | undefined
  #minted = 0
  readonly #clock: FakeClock

  constructor(clock: FakeClock) {
    this.#clock = clock
  }

  readonly fn = async (): Promise<AwsCredentialIdentity> => {
    const now = this.#clock.now()
    this.calls.push(now)
    if (this.throwNext !== undefined) throw this.throwNext
    switch (this.answer) {
      case 'error':
        throw new CredentialsError('agent unreachable: connect ECONNREFUSED 127.0.0.1:80', {
          code: 'ERR_NETWORK',
        })
      case 'nonRecoverable':
        throw new CredentialsError('the agent answered 403: AccessDenied', {
          code: 'ERR_HTTP_STATUS',
          status: 403,
          retryable: false,
        })
      case 'stale':
        return this.#mint(now - SECOND)
      case 'same':
        if (this.last !== undefined) return this.last
        return this.#mint(now + this.lifetimeMs)
      default:
        return this.#mint(now + this.lifetimeMs)
    }
  }

  #mint(expiresAt: number): AwsCredentialIdentity {
    this.#minted++
    const accessKeyId = this.nextKeyId ?? `ASIAPODCREDSTEST${String(this.#minted).padStart(4, '0')}`
    this.nextKeyId = undefined
    this.last = {
      accessKeyId,
      secretAccessKey: `SECRETCANARYsecret${this.#minted}`,
      sessionToken: `SECRETCANARYtoken${this.#minted}`,
      expiration: new Date(expiresAt),
    }
    return this.last
  }
}

/** Resolves a promise into `{ value }` or `{ error }`, so tests can inspect either. */
export async function outcome<T>(p: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  try {
    return { value: await p }
  } catch (error) {
    return { error }
  }
}
