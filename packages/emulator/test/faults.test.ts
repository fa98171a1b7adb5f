import { type Emulator, startEmulator } from '@podcreds/emulator'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  agentKeys,
  assumeRole,
  fakeClock,
  getCallerIdentity,
  getCredentials,
  signedSend,
  stsKeys,
  until,
  xmlField,
} from './helpers.js'

describe('faults', () => {
  const clock = fakeClock()
  let draws: number[] = []
  let emulator: Emulator
  let podToken: string
  beforeAll(async () => {
    // Fresh keys per request (`agent: { cache: false }`) and 1 h sets: these tests are about the
    // faults, not the agent's per-token cache (agent.test.ts covers that).
    emulator = await startEmulator({
      clock,
      random: () => draws.shift() ?? 0.99,
      rotateEveryMs: 0,
      credentialLifetimeMs: 3_600_000,
      agent: { cache: false },
    })
    podToken = await emulator.mintToken({ audience: 'pods.eks.amazonaws.com' })
  })
  afterEach(() => {
    emulator.faults.clear()
    draws = []
  })
  afterAll(() => emulator.close())

  it('delays answers by latencyMs on the emulator clock', async () => {
    emulator.faults.set({ agent: { latencyMs: 30_000 } })
    let settled = false
    const pending = getCredentials(emulator.agentUrl, podToken).finally(() => {
      settled = true
    })
    await until(() => clock.pending() > 0, 'the latency timer')
    expect(settled).toBe(false)
    clock.advance(30_000)
    expect((await pending).status).toBe(200)
  })

  it('drops connections while down, and only inside an outage window', async () => {
    emulator.faults.set({ agent: { down: true } })
    await expect(getCredentials(emulator.agentUrl, podToken)).rejects.toThrow(/socket hang up|ECONNRESET/)
    emulator.faults.set({ agent: { down: { from: clock.now() + 60_000, until: clock.now() + 120_000 } } })
    const beforeWindow = await getCredentials(emulator.agentUrl, podToken)
    clock.advance(60_000)
    await expect(getCredentials(emulator.agentUrl, podToken)).rejects.toThrow()
    clock.advance(60_000)
    const afterWindow = await getCredentials(emulator.agentUrl, podToken)
    expect([beforeWindow.status, afterWindow.status]).toEqual([200, 200])
  })

  it('answers an injected status at the given rate, drawing from the injected random', async () => {
    emulator.faults.set({ sts: { status: 503, rate: 0.5 } })
    draws = [0.1, 0.9]
    const token = await emulator.mintToken()
    const first = await assumeRole(emulator.stsUrl, emulator.irsaEnv.AWS_ROLE_ARN!, token)
    const second = await assumeRole(emulator.stsUrl, emulator.irsaEnv.AWS_ROLE_ARN!, token)
    expect([first.status, xmlField(first.body, 'Code'), xmlField(first.body, 'Type')]).toEqual([
      503,
      'ServiceUnavailable',
      'Receiver',
    ])
    expect(second.status).toBe(200)
  })

  it('uses a given error code, e.g. IDPCommunicationError', async () => {
    emulator.faults.set({ sts: { status: 400, code: 'IDPCommunicationError' } })
    const reply = await assumeRole(
      emulator.stsUrl,
      emulator.irsaEnv.AWS_ROLE_ARN!,
      await emulator.mintToken(),
    )
    expect([reply.status, xmlField(reply.body, 'Code')]).toEqual([400, 'IDPCommunicationError'])
  })

  it('throttles each endpoint in its own dialect', async () => {
    emulator.faults.set({ agent: { throttle: true }, sts: { throttle: true }, aws: { throttle: 1 } })
    const agent = await getCredentials(emulator.agentUrl, podToken)
    const sts = await assumeRole(emulator.stsUrl, emulator.irsaEnv.AWS_ROLE_ARN!, await emulator.mintToken())
    const keys = { accessKeyId: 'ASIAAAAAAAAAAAAAAAAA', secretAccessKey: 'x'.repeat(40) }
    const awsSts = await getCallerIdentity(emulator.awsUrl, keys)
    const awsS3 = await signedSend(emulator.awsUrl, keys, { service: 's3', method: 'GET' })
    expect(agent.status).toBe(429)
    expect([sts.status, xmlField(sts.body, 'Code')]).toEqual([400, 'Throttling'])
    expect([awsSts.status, xmlField(awsSts.body, 'Code')]).toEqual([400, 'Throttling'])
    expect([awsS3.status, xmlField(awsS3.body, 'Code')]).toEqual([503, 'SlowDown'])
  })

  it('sameCredentials: the agent answers the same set until half its lifetime is gone', async () => {
    emulator.faults.set({ agent: { sameCredentials: true } })
    const first = agentKeys(await getCredentials(emulator.agentUrl, podToken))
    clock.advance(20 * 60_000)
    const second = agentKeys(await getCredentials(emulator.agentUrl, podToken))
    clock.advance(11 * 60_000)
    const third = agentKeys(await getCredentials(emulator.agentUrl, podToken))
    expect(second).toEqual(first)
    expect(third.accessKeyId).not.toBe(first.accessKeyId)
  })

  it('skewMs shifts the Expiration the agent and STS report, not the true expiry', async () => {
    emulator.faults.set({ agent: { skewMs: -3_600_000 }, sts: { skewMs: 600_000 } })
    const agent = agentKeys(await getCredentials(emulator.agentUrl, podToken))
    const sts = stsKeys(
      await assumeRole(emulator.stsUrl, emulator.irsaEnv.AWS_ROLE_ARN!, await emulator.mintToken()),
    )
    const now = Math.floor(clock.now() / 1000) * 1000
    expect(Date.parse(agent.expiration)).toBe(clock.now())
    expect(Date.parse(sts.expiration)).toBe(now + 4_200_000)
    // The AWS endpoint still honours the agent's credentials: they expire at the true time.
    expect(
      (
        await getCallerIdentity(emulator.awsUrl, agent, {
          service: 'sts',
          signingDate: new Date(clock.now()),
        })
      ).status,
    ).toBe(200)
  })

  it('skewMs on the AWS endpoint moves its clock for the X-Amz-Date check', async () => {
    const keys = agentKeys(await getCredentials(emulator.agentUrl, podToken))
    emulator.faults.set({ aws: { skewMs: 30 * 60_000 } })
    const reply = await getCallerIdentity(emulator.awsUrl, keys, {
      service: 'sts',
      signingDate: new Date(clock.now()),
    })
    expect([reply.status, xmlField(reply.body, 'Code')]).toEqual([403, 'RequestTimeTooSkewed'])
  })

  it('validates fault settings with TypeErrors naming the setting, leaving the faults unchanged', () => {
    emulator.faults.set({ sts: { latencyMs: 5 } })
    const bad: [unknown, RegExp][] = [
      [{ agent: { rate: 2, status: 500 } }, /faults\.agent\.rate/],
      [{ agent: { status: 200 } }, /faults\.agent\.status/],
      [{ sts: { latencyMs: -1 } }, /faults\.sts\.latencyMs/],
      [{ aws: { sameCredentials: true } }, /faults\.aws\.sameCredentials/],
      [{ aws: { down: 'yes' } }, /faults\.aws\.down/],
      [{ agent: { rate: 0.5 } }, /faults\.agent\.rate needs a status/],
      [{ agent: { jitter: 1 } }, /faults\.agent\.jitter/],
      [{ dns: {} }, /faults\.dns/],
      [{ sts: { status: 500 }, agent: { throttle: 7 } }, /faults\.agent\.throttle/],
    ]
    for (const [settings, message] of bad) {
      expect(() => emulator.faults.set(settings as never)).toThrow(TypeError)
      expect(() => emulator.faults.set(settings as never)).toThrow(message)
    }
    expect(emulator.faults.current()).toEqual({
      agent: {},
      sts: { latencyMs: 5 },
      aws: {},
      imds: {},
      entra: {},
    })
  })

  // Issue 21: the Entra endpoint has a fault switch too, so doctor can be shown a hanging one.
  describe('the Entra token endpoint', () => {
    const tenant = () => emulator.azureEnv.AZURE_TENANT_ID!
    /** A token request that reaches the judge and is refused (no assertion): 400 AADSTS900144. */
    const tokenRequest = async (): Promise<{
      status: number
      headers: Headers
      body: Record<string, unknown>
    }> => {
      const response = await fetch(`${emulator.entraUrl}${tenant()}/oauth2/v2.0/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      })
      return {
        status: response.status,
        headers: response.headers,
        body: (await response.json()) as Record<string, unknown>,
      }
    }

    it('latencyMs holds a token request on the emulator clock: a hang until it is over', async () => {
      const before = emulator.stats().entraRequests
      emulator.faults.set({ entra: { latencyMs: 60_000 } })
      let settled = false
      const pending = tokenRequest().finally(() => {
        settled = true
      })
      await until(() => clock.pending() > 0, 'the latency timer')
      expect(settled).toBe(false)
      expect(emulator.stats().entraRequests).toBe(before + 1)
      clock.advance(60_000)
      const answer = await pending
      expect([answer.status, answer.body.error_codes]).toEqual([400, [900144]])
    })

    it('down drops the connection; status answers an Entra error at the given rate', async () => {
      emulator.faults.set({ entra: { down: true } })
      await expect(tokenRequest()).rejects.toThrow()
      emulator.faults.set({ entra: { status: 503, rate: 0.5 } })
      draws = [0.1, 0.9]
      const injected = await tokenRequest()
      const through = await tokenRequest()
      // Entra's error document (error, error_description "AADSTSnnnnn: …", error_codes), with
      // RFC 6749's name for an unavailable server.
      expect(injected.status).toBe(503)
      expect(injected.body).toMatchObject({ error: 'temporarily_unavailable', error_codes: [50000] })
      expect(String(injected.body.error_description)).toMatch(/^AADSTS50000: HTTP 503 injected/)
      expect(through.status).toBe(400)
      emulator.faults.set({ entra: { status: 500 } })
      expect((await tokenRequest()).body.error).toBe('server_error')
      expect(emulator.faults.current().entra).toEqual({ status: 500 })
    })

    it('throttle answers 429 with Retry-After, as Entra throttles', async () => {
      emulator.faults.set({ entra: { throttle: true } })
      const answer = await tokenRequest()
      expect([answer.status, answer.headers.get('retry-after'), answer.body.error]).toEqual([
        429,
        '60',
        'temporarily_unavailable',
      ])
    })

    it('refuses faults that do not apply to it, leaving its faults unchanged; clear("entra") heals it', () => {
      emulator.faults.set({ entra: { latencyMs: 5 } })
      for (const key of ['code', 'skewMs', 'sameCredentials']) {
        const spec = key === 'code' ? { status: 500, code: 'X' } : { [key]: key === 'skewMs' ? 5 : true }
        expect(() => emulator.faults.set({ entra: spec as never })).toThrow(
          new RegExp(`faults\\.entra\\.${key}`),
        )
      }
      expect(() => emulator.faults.set({ entra: { status: 200 } })).toThrow(/faults\.entra\.status/)
      expect(emulator.faults.current().entra).toEqual({ latencyMs: 5 })
      emulator.faults.clear('entra')
      expect(emulator.faults.current().entra).toEqual({})
    })
  })

  it('counts requests per endpoint', async () => {
    const before = emulator.stats()
    await getCredentials(emulator.agentUrl, podToken)
    expect(emulator.stats().agentRequests).toBe(before.agentRequests + 1)
    expect(emulator.stats().credentialsIssued).toBe(before.credentialsIssued + 1)
  })
})
