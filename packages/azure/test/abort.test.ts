import { workloadIdentityCredential } from '@podcreds/azure'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { rejectionOf } from '../../../test/support/errors.js'
import {
  CLIENT,
  type EntraReply,
  fakeAssertion,
  SCOPE,
  startFakeEntra,
  TENANT,
  tokenReply,
  tokenVolume,
} from './helpers.js'

type Volume = Awaited<ReturnType<typeof tokenVolume>>
type Entra = Awaited<ReturnType<typeof startFakeEntra>>

let volume: Volume
let entra: Entra
let release: () => void
let gate: Promise<void>
let closers: (() => void)[] = []

beforeEach(async () => {
  volume = await tokenVolume()
  await volume.write(fakeAssertion('SECRETCANARYASSERTION'))
  gate = new Promise<void>((resolve) => {
    release = resolve
  })
  // Entra answers only when the test releases the gate.
  entra = await startFakeEntra(
    (_req, n): EntraReply => ({ ...tokenReply(`SECRETCANARYACCESS.${n}`), delayUntil: gate }),
  )
})

afterEach(async () => {
  release()
  for (const close of closers) close()
  closers = []
  await entra.close()
  await volume.remove()
})

function credential() {
  const c = workloadIdentityCredential({
    env: {},
    tenantId: TENANT,
    clientId: CLIENT,
    tokenFilePath: volume.path,
    authorityHost: entra.url,
  })
  closers.push(() => c.close())
  return c
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve))
}

describe('abortSignal', () => {
  it('an already-aborted signal rejects with an AbortError and sends nothing', async () => {
    const c = credential()

    const error = (await rejectionOf(c.getToken(SCOPE, { abortSignal: AbortSignal.abort() }))) as Error

    expect(error.name).toBe('AbortError')
    expect(entra.requests).toHaveLength(0)
  })

  it('an aborted waiter stops waiting; the shared request goes on for the others', async () => {
    const c = credential()
    const controller = new AbortController()
    const aborted = c.getToken(SCOPE, { abortSignal: controller.signal })
    const patient = c.getToken(SCOPE)
    await until(() => entra.requests.length === 1)

    controller.abort(new Error('caller gave up'))
    const error = (await rejectionOf(aborted)) as Error
    release()
    const token = await patient

    expect(error.name).toBe('AbortError')
    expect((error.cause as Error).message).toBe('caller gave up')
    expect(token.token).toBe('SECRETCANARYACCESS.1')
    expect(entra.requests).toHaveLength(1)
  })

  it('a request whose only waiter aborted still fills the cache', async () => {
    const c = credential()
    const controller = new AbortController()
    const aborted = c.getToken(SCOPE, { abortSignal: controller.signal })
    await until(() => entra.requests.length === 1)

    controller.abort()
    expect(((await rejectionOf(aborted)) as Error).name).toBe('AbortError')
    release()
    const token = await c.getToken(SCOPE)

    expect(token.token).toBe('SECRETCANARYACCESS.1')
    expect(entra.requests).toHaveLength(1)
  })

  it('a signal that never fires changes nothing', async () => {
    const c = credential()
    release()

    const token = await c.getToken(SCOPE, { abortSignal: new AbortController().signal })

    expect(token.token).toBe('SECRETCANARYACCESS.1')
  })

  it('refuses something that is not an AbortSignal', async () => {
    const c = credential()

    const error = await rejectionOf(c.getToken(SCOPE, { abortSignal: {} as AbortSignal }))

    expect(error).toBeInstanceOf(TypeError)
  })
})
