import { readFileSync } from 'node:fs'
import type { AwsCredentialIdentity } from '@podcreds/core'
import { CredentialsError } from '@podcreds/core'
import { refreshing } from '@podcreds/refresh'
import { describe, expect, it } from 'vitest'
import { FakeClock } from '../../../test/support/fakeClock.js'
import { mulberry32 } from '../../../test/support/random.js'
import type { Answer } from './helpers.js'
import { outcome, ScriptedSource, SECOND } from './helpers.js'

interface Expect {
  result?: 'cached' | 'new' | 'sourceError' | 'nonRecoverable' | 'expiredError'
  sourceCalled?: boolean
  waited?: boolean
  windowSeconds?: number
  maxSourceCalls?: number
}
interface Step {
  do: 'call' | 'answer' | 'advance' | 'sleep' | 'invalidate'
  source?: Answer
  lifetimeSeconds?: number
  seconds?: number
  keyId?: string
  expect?: Expect
}
interface Given {
  cache: 'none' | 'valid' | 'advisory' | 'mandatory' | 'expired'
  keyId?: string
  windowSeconds?: number
  backoffSeconds?: number
}
interface Case {
  id: string
  spec: string
  given: Given
  steps: Step[]
  podcreds?: { rules: string[]; differs: string; given?: Given; steps: Step[] }
}

const data = JSON.parse(
  readFileSync(new URL('./credential-refresh-vectors.json', import.meta.url), 'utf8'),
) as { cases: Case[] }

const LIFETIME_S = 3600
const JUMP_S: Record<Given['cache'], number | undefined> = {
  none: undefined,
  valid: 0,
  advisory: LIFETIME_S - 120,
  mandatory: LIFETIME_S - 30,
  expired: LIFETIME_S + 1,
}

async function run(given: Given, steps: Step[]): Promise<void> {
  const clock = new FakeClock()
  const source = new ScriptedSource(clock)
  const engine = refreshing(source.fn, {
    clock,
    random: mulberry32(20_260_101),
    ...(given.windowSeconds === undefined ? {} : { refreshWindowMs: given.windowSeconds * SECOND }),
  })
  try {
    let held: AwsCredentialIdentity | undefined
    const jump = JUMP_S[given.cache]
    if (jump !== undefined) {
      source.lifetimeMs = LIFETIME_S * SECOND
      if (given.keyId !== undefined) source.nextKeyId = given.keyId
      held = await engine()
      clock.sleep(jump * SECOND)
    }
    for (const step of steps) {
      if (step.source !== undefined) source.answer = step.source
      if (step.lifetimeSeconds !== undefined) source.lifetimeMs = step.lifetimeSeconds * SECOND
      const callsBefore = source.calls.length
      const waitsBefore = engine.stats().waits
      const want = step.expect ?? {}
      switch (step.do) {
        case 'answer':
          break
        case 'invalidate':
          engine.invalidate(step.keyId)
          break
        case 'sleep':
          clock.sleep((step.seconds ?? 0) * SECOND)
          break
        case 'advance':
          await clock.advance((step.seconds ?? 0) * SECOND)
          if (want.maxSourceCalls !== undefined)
            expect(source.calls.length - callsBefore).toBeLessThanOrEqual(want.maxSourceCalls)
          break
        case 'call': {
          const got = await outcome(engine())
          const err = got.error as CredentialsError | undefined
          switch (want.result) {
            case 'cached':
              expect(got.error).toBeUndefined()
              expect(got.value).toBe(held)
              break
            case 'new':
              expect(got.error).toBeUndefined()
              expect(got.value?.accessKeyId).not.toBe(held?.accessKeyId)
              expect(got.value).toBe(source.last)
              held = got.value
              break
            case 'sourceError':
              expect(err).toBeInstanceOf(CredentialsError)
              expect(err?.code).toBe('ERR_NETWORK')
              break
            case 'nonRecoverable':
              expect(err).toBeInstanceOf(CredentialsError)
              expect(err?.status).toBe(403)
              break
            case 'expiredError':
              expect(err).toBeInstanceOf(CredentialsError)
              expect(err?.code).toBe('ERR_CREDENTIALS_EXPIRED')
              expect(err?.cause).toBeInstanceOf(CredentialsError)
              break
            default:
              break
          }
          if (want.sourceCalled !== undefined)
            expect(source.calls.length > callsBefore).toBe(want.sourceCalled)
          if (want.waited !== undefined) expect(engine.stats().waits > waitsBefore).toBe(want.waited)
          if (want.windowSeconds !== undefined)
            expect(engine.stats().refreshWindowMs).toBe(want.windowSeconds * SECOND)
          break
        }
      }
    }
  } finally {
    engine.close()
  }
  expect(clock.pending()).toBe(0)
}

describe('cross-SDK credential refresh vectors (credential-refresh-vectors.json)', () => {
  it('holds all 23 cases, and every deliberate difference names its rules and reason', () => {
    expect(data.cases).toHaveLength(23)
    expect(new Set(data.cases.map((c) => c.id)).size).toBe(23)
    for (const c of data.cases) {
      if (c.podcreds === undefined) continue
      expect(c.podcreds.rules.length).toBeGreaterThan(0)
      expect(c.podcreds.differs.length).toBeGreaterThan(40)
      expect(c.podcreds.steps.length).toBeGreaterThan(0)
    }
  })

  for (const c of data.cases) {
    const label = c.podcreds === undefined ? c.id : `${c.id} (podcreds rules ${c.podcreds.rules.join(', ')})`
    it(`${label}: ${c.spec}`, async () => {
      await run(c.podcreds?.given ?? c.given, c.podcreds?.steps ?? c.steps)
    })
  }
})
