import { CredentialsError } from '@podcreds/core'
import type { FromWebIdentityOptions } from '@podcreds/web-identity'
import { fromWebIdentity } from '@podcreds/web-identity'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { KubeletTokenDir } from '../../../test/support/kubeletTokenDir.js'
import { kubeletTokenDir } from '../../../test/support/kubeletTokenDir.js'
import type { StsFake } from './helpers/stsFake.js'
import { startStsFake, successXml } from './helpers/stsFake.js'
import { fixedClock, makeJwt } from './helpers/tokens.js'

let sts: StsFake
let tokens: KubeletTokenDir

beforeEach(async () => {
  sts = await startStsFake()
  tokens = await kubeletTokenDir({ token: makeJwt() })
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
    ...extra,
  }
}

async function invalid(body: string): Promise<CredentialsError> {
  sts.answer({ status: 200, body })
  const error = await fromWebIdentity(options())().then(
    () => undefined,
    (err: unknown) => err,
  )
  expect(error).toBeInstanceOf(CredentialsError)
  expect((error as CredentialsError).code).toBe('ERR_RESPONSE_INVALID')
  return error as CredentialsError
}

const BILLION_LAUGHS = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
${successXml({ sessionToken: '&lol9;' })}`

describe('STS XML responses', () => {
  it('rejects an XML bomb (billion laughs) before parsing, fast and without expanding it', async () => {
    const before = process.memoryUsage().heapUsed
    const error = await invalid(BILLION_LAUGHS)
    expect(error.message).toMatch(/DOCTYPE or ENTITY/)
    // No expansion happened: the heap did not grow by anything near the bomb's gigabytes.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(64 * 1024 * 1024)
    expect(sts.requests).toHaveLength(1)
  })

  it.each([
    ['a DOCTYPE', `<!DOCTYPE foo SYSTEM "file:///etc/passwd">${successXml()}`],
    ['a lower-case doctype', `<!doctype foo>${successXml()}`],
    ['an ENTITY declaration alone', `${successXml()}<!ENTITY x "y">`],
  ])('rejects a body with %s before parsing', async (_name, body) => {
    const error = await invalid(body)
    expect(error.message).toMatch(/DOCTYPE or ENTITY/)
  })

  it.each([
    ['not XML at all', '{"Credentials":{}}'],
    ['an unclosed element', '<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult>'],
    ['mismatched tags', '<a><b></a></b>'],
    ['an empty body', ''],
  ])('rejects %s as ERR_RESPONSE_INVALID', async (_name, body) => {
    await invalid(body)
  })

  it('rejects absurdly deep nesting quickly', async () => {
    const depth = 5000
    const error = await invalid(`${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}`)
    expect(error.message).toMatch(/well-formed|deep/)
  })

  it('rejects a body over the 64 KiB cap', async () => {
    const error = await invalid(successXml({ sessionToken: 'x'.repeat(70_000) }))
    expect(error.message).toMatch(/exceeds/)
  })

  it('rejects a response without Credentials, naming what is missing', async () => {
    const body = successXml().replace(/<Credentials>[\s\S]*<\/Credentials>/, '')
    const error = await invalid(body)
    expect(error.message).toContain('Credentials.AccessKeyId')
  })

  it.each(['AccessKeyId', 'SecretAccessKey', 'SessionToken', 'Expiration'])(
    'rejects a response missing Credentials.%s, never printing the other values',
    async (field) => {
      const body = successXml().replace(new RegExp(`<${field}>[^<]*</${field}>`), '')
      const error = await invalid(body)
      expect(error.message).toContain(`Credentials.${field}`)
      expect(error.message).not.toContain('SECRETCANARY')
    },
  )

  it('rejects a malformed Expiration', async () => {
    const error = await invalid(successXml({ expiration: 'tomorrow' }))
    expect(error.message).toContain('Expiration')
  })

  it('rejects a success answer under another root element', async () => {
    await invalid(successXml().replaceAll('AssumeRoleWithWebIdentityResponse', 'AssumeRoleResponse'))
  })

  it('leaves accountId out when AssumedRoleUser is absent or odd', async () => {
    sts.answer({ body: successXml({ arn: 'not-an-arn' }) })
    const creds = await fromWebIdentity(options())()
    expect(creds.accountId).toBeUndefined()
    expect(creds.accessKeyId).toBe('ASIAFAKEACCESSKEY123')
  })

  it('accepts an XML declaration and namespace prefixes', async () => {
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n${successXml()
      .replaceAll('<', '<sts:')
      .replaceAll('<sts:/', '</sts:')}`
    sts.answer({ body })
    const creds = await fromWebIdentity(options())()
    expect(creds.accountId).toBe('123456789012')
  })
})
