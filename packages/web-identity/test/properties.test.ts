import type { FromWebIdentityOptions } from '@podcreds/web-identity'
import { fromWebIdentity } from '@podcreds/web-identity'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { StsFake } from './helpers/stsFake.js'
import { startStsFake, successXml } from './helpers/stsFake.js'
import { fixedClock } from './helpers/tokens.js'

let sts: StsFake

beforeAll(async () => {
  sts = await startStsFake()
})
afterAll(async () => {
  await sts.close()
})

function options(token: string, extra: FromWebIdentityOptions = {}): FromWebIdentityOptions {
  return {
    roleArn: 'arn:aws:iam::123456789012:role/app-role',
    tokenFile: '/var/run/secrets/eks.amazonaws.com/serviceaccount/token',
    readFile: async () => new TextEncoder().encode(token),
    endpoint: sts.url,
    clock: fixedClock(),
    random: () => 0,
    env: {},
    ...extra,
  }
}

// Any Unicode text (whole graphemes, so it is valid UTF-8), not blank at either end.
const text = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 80 }).map((value) => `a${value}z`)

const xmlEscape = (value: string): string =>
  value.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')

// Characters XML 1.0 allows in text, without the whitespace the parser trims at the ends.
const xmlText = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 60 })
  // biome-ignore lint/suspicious/noControlCharactersInRegex: XML forbids these; the test removes them
  .map((value) => `K${value.replace(/[\u0000-\u001f\u007f\ufffe\uffff]/g, '')}Q`)

describe('properties', () => {
  it('any token and policy text round-trips through the form body', async () => {
    await fc.assert(
      fc.asyncProperty(text, text, async (token, policy) => {
        sts.requests.length = 0
        await fromWebIdentity(options(token, { policy }))()
        const form = sts.requests[0]?.form
        expect(form?.get('WebIdentityToken')).toBe(token)
        expect(form?.get('Policy')).toBe(policy)
      }),
      { numRuns: 40 },
    )
  })

  it('credential values come back from the XML exactly as STS escaped them', async () => {
    await fc.assert(
      fc.asyncProperty(xmlText, xmlText, xmlText, async (accessKeyId, secretAccessKey, sessionToken) => {
        sts.answer({
          body: successXml({
            accessKeyId: xmlEscape(accessKeyId),
            secretAccessKey: xmlEscape(secretAccessKey),
            sessionToken: xmlEscape(sessionToken),
          }),
        })
        const creds = await fromWebIdentity(options('opaque-token'))()
        expect(creds.accessKeyId).toBe(accessKeyId)
        expect(creds.secretAccessKey).toBe(secretAccessKey)
        expect(creds.sessionToken).toBe(sessionToken)
      }),
      { numRuns: 40 },
    )
  })

  it('character references decode, and no entity is expanded beyond the predefined five', async () => {
    sts.answer({ body: successXml({ sessionToken: 'a&#x2B;b&#61;c&amp;lt;&unknown;&#xD800;' }) })
    const creds = await fromWebIdentity(options('opaque-token'))()
    expect(creds.sessionToken).toBe('a+b=c&lt;&unknown;&#xD800;')
  })
})
