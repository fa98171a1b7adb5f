import { inspect } from 'node:util'
import type { Logger } from '@podcreds/core'
import { CredentialsError } from '@podcreds/core'
import type { FromWebIdentityOptions } from '@podcreds/web-identity'
import { fromWebIdentity } from '@podcreds/web-identity'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { KubeletTokenDir } from '../../../test/support/kubeletTokenDir.js'
import { kubeletTokenDir } from '../../../test/support/kubeletTokenDir.js'
import { assertNoSecret } from '../../../test/support/secrets.js'
import type { Answer, StsFake } from './helpers/stsFake.js'
import { DEFAULT_CREDENTIALS, errorXml, startStsFake, successXml } from './helpers/stsFake.js'
import { fixedClock, makeJwt, NOW } from './helpers/tokens.js'

const JWT = makeJwt()
const OPAQUE = 'SECRETCANARYopaque-oauth-token-0123456789'
const SECRETS = [
  JWT,
  JWT.split('.')[1] ?? JWT,
  OPAQUE,
  'SECRETCANARY',
  DEFAULT_CREDENTIALS.secretAccessKey,
  DEFAULT_CREDENTIALS.sessionToken,
]

let sts: StsFake
let tokens: KubeletTokenDir
let logged: string[]

const logger: Logger = {
  debug: (message, fields) => logged.push(inspect([message, fields], { depth: 10 })),
  info: (message, fields) => logged.push(inspect([message, fields], { depth: 10 })),
  warn: (message, fields) => logged.push(inspect([message, fields], { depth: 10 })),
  error: (message, fields) => logged.push(inspect([message, fields], { depth: 10 })),
}

beforeEach(async () => {
  sts = await startStsFake()
  tokens = await kubeletTokenDir({ token: JWT })
  logged = []
})
afterEach(async () => {
  await sts.close()
  await tokens.remove()
})

function options(extra: FromWebIdentityOptions = {}): FromWebIdentityOptions {
  return {
    roleArn: 'arn:aws:iam::123456789012:role/app-role',
    tokenFile: tokens.path,
    endpoint: sts.url,
    clock: fixedClock(),
    random: () => 0,
    env: {},
    logger,
    ...extra,
  }
}

function expectClean(text: string): void {
  for (const secret of SECRETS) expect(text).not.toContain(secret)
}

function expectCleanError(error: unknown): void {
  expect(error).toBeInstanceOf(CredentialsError)
  assertNoSecret(error, SECRETS)
}

const echo = (token: string): string => `token ${token} rejected`

const scenarios: [string, () => Promise<void> | void, Answer[], string][] = [
  ['an unreadable token file', () => tokens.remove(), [], 'ERR_TOKEN_FILE'],
  [
    'an expired token',
    () => tokens.write(makeJwt({ exp: Math.floor(NOW / 1000) - 1 })),
    [],
    'ERR_TOKEN_EXPIRED',
  ],
  [
    'an STS error echoing the JWT',
    () => undefined,
    [{ status: 400, body: errorXml('InvalidParameterValue', echo(JWT)) }],
    'ERR_STS',
  ],
  [
    'an STS error echoing an opaque token',
    () => tokens.write(OPAQUE),
    [{ status: 403, body: errorXml('AccessDenied', echo(OPAQUE)) }],
    'ERR_STS',
  ],
  [
    'InvalidIdentityToken twice, echoing the token',
    () => undefined,
    [{ status: 400, body: errorXml('InvalidIdentityToken', echo(JWT)) }],
    'ERR_STS',
  ],
  [
    'throttling until the attempts run out',
    () => undefined,
    [{ status: 400, body: errorXml('Throttling', echo(JWT)) }],
    'ERR_STS',
  ],
  [
    'a response missing SessionToken',
    () => undefined,
    [{ body: successXml().replace(/<SessionToken>[^<]*<\/SessionToken>/, '') }],
    'ERR_RESPONSE_INVALID',
  ],
  [
    'a response with a bad Expiration',
    () => undefined,
    [{ body: successXml({ expiration: 'never' }) }],
    'ERR_RESPONSE_INVALID',
  ],
  [
    'a DOCTYPE response carrying credentials',
    () => undefined,
    [{ body: `<!DOCTYPE x>${successXml()}` }],
    'ERR_RESPONSE_INVALID',
  ],
  [
    'a 500 HTML page echoing the token',
    () => undefined,
    [{ status: 500, body: `<html>${JWT} ${DEFAULT_CREDENTIALS.secretAccessKey}` }],
    'ERR_HTTP_STATUS',
  ],
  ['connection resets', () => undefined, [{ destroy: true }], 'ERR_NETWORK'],
]

describe('secrets never leave', () => {
  it.each(scenarios)('%s: the error and the logs carry no secret', async (_name, prepare, answers, code) => {
    await prepare()
    if (answers.length > 0) sts.answer(...answers)
    const error = await fromWebIdentity(options())().then(
      () => undefined,
      (err: unknown) => err,
    )

    expect((error as CredentialsError).code).toBe(code)
    expectCleanError(error)
    for (const line of logged) expectClean(line)
  })

  it('a success logs no secret, and describe() shows claims only', async () => {
    const provider = fromWebIdentity(options({ env: {} }))
    await provider()
    const description = await provider.describe()

    expect(logged.length).toBeGreaterThan(0)
    for (const line of logged) expectClean(line)
    expectClean(JSON.stringify(description))
    expectClean(inspect(description))
  })
})
