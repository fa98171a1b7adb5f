import { inspect } from 'node:util'
import type { TemporaryCredentials } from '@podcreds/core'
import { protectCredentials, REDACTED, redactCredentials, redactKeyId, scrub } from '@podcreds/core'
import { describe, expect, it } from 'vitest'
import { CANARY_KEY_ID, CANARY_SECRET, CANARY_TOKEN, consoleLog, expectNoSecret } from './helpers.js'

const expiration = new Date('2030-01-02T03:04:05.000Z')
const credentials = (): TemporaryCredentials & { accountId: string } => ({
  accessKeyId: CANARY_KEY_ID,
  secretAccessKey: CANARY_SECRET,
  sessionToken: CANARY_TOKEN,
  expiration,
  accountId: '123456789012',
})

describe('redactKeyId', () => {
  it('keeps the first and last four characters', () => {
    expect(redactKeyId('AKIAIOSFODNN7EXAMPLE')).toBe('AKIA…MPLE')
    expect(redactKeyId('ASIA12345678')).toBe('ASIA…5678')
  })

  it('hides short or empty ids entirely', () => {
    expect(redactKeyId('ASIA1234567')).toBe('…')
    expect(redactKeyId('')).toBe('…')
  })
})

describe('redactCredentials', () => {
  it('returns the secret-free form', () => {
    expect(redactCredentials(credentials())).toEqual({
      accessKeyId: 'ASIA…EYID',
      secretAccessKey: REDACTED,
      sessionToken: REDACTED,
      expiration: '2030-01-02T03:04:05.000Z',
      accountId: '123456789012',
    })
  })

  it('omits what the credentials do not have', () => {
    expect(
      redactCredentials({ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: CANARY_SECRET }),
    ).toEqual({
      accessKeyId: 'AKIA…MPLE',
      secretAccessKey: REDACTED,
    })
  })
})

describe('protectCredentials', () => {
  it('keeps every credential value intact for the SDK to sign with', () => {
    const input = credentials()
    const creds = protectCredentials(input)
    expect(creds.accessKeyId).toBe(CANARY_KEY_ID)
    expect(creds.secretAccessKey).toBe(CANARY_SECRET)
    expect(creds.sessionToken).toBe(CANARY_TOKEN)
    expect(creds.expiration).toBe(expiration)
    expect(creds.accountId).toBe('123456789012')
    expect(Object.keys(creds)).toEqual(Object.keys(input))
    // A spread (what an SDK might do) yields the plain credentials.
    expect({ ...creds }).toEqual(input)
  })

  it('does not change its input', () => {
    const input = credentials()
    protectCredentials(input)
    expect(inspect(input)).toContain(CANARY_SECRET)
    expect(Object.getOwnPropertySymbols(input)).toEqual([])
    expect(JSON.stringify(input)).toContain(CANARY_SECRET)
  })

  it('prints redacted with console.log, util.inspect and JSON.stringify', () => {
    const creds = protectCredentials(credentials())
    expectNoSecret(creds)
    expect(consoleLog(creds)).toContain('ASIA…EYID')
    expect(consoleLog('resolved', creds)).toContain(REDACTED)
    expect(inspect(creds)).not.toContain(CANARY_KEY_ID)
    expect(inspect(creds, { showHidden: true, depth: 5 })).not.toContain(CANARY_SECRET)
    expect(JSON.parse(JSON.stringify(creds))).toEqual(redactCredentials(creds))
    expect(consoleLog('%o', creds)).not.toContain(CANARY_SECRET)
  })

  it('stays redacted when nested in other objects and errors', () => {
    const creds = protectCredentials(credentials())
    expectNoSecret({ result: { creds }, list: [creds] })
    const err = new Error('wrapped')
    Object.assign(err, { credentials: creds })
    expectNoSecret(err)
  })
})

describe('scrub', () => {
  it('replaces every occurrence of every secret', () => {
    const text = `token ${CANARY_TOKEN} and again ${CANARY_TOKEN}, key ${CANARY_SECRET}`
    expect(scrub(text, [CANARY_TOKEN, undefined, CANARY_SECRET])).toBe(
      'token [redacted] and again [redacted], key [redacted]',
    )
  })

  it('ignores secrets shorter than 8 characters, which would redact ordinary words', () => {
    expect(scrub('the token is bad', ['token', ''])).toBe('the token is bad')
    expect(scrub('the 12345678 is bad', ['12345678'])).toBe('the [redacted] is bad')
  })

  it('turns control characters into spaces so a server cannot forge log lines', () => {
    expect(scrub('bad\r\nlevel=info msg=forged\u0000\u001b[31m', [])).toBe('bad  level=info msg=forged  [31m')
    expect(scrub('a\u2028b\u0085c\u007fd', [])).toBe('a b c d')
    expect(scrub('tab\tkept', [])).toBe('tab\tkept')
  })

  it('caps the text, by default at 512 characters', () => {
    const long = 'x'.repeat(600)
    expect(scrub(long, [])).toBe(`${'x'.repeat(512)}…`)
    expect(scrub(long, [], 10)).toBe(`${'x'.repeat(10)}…`)
    expect(scrub('short', [], 10)).toBe('short')
  })

  it('redacts before capping, so a secret straddling the cap never leaks a prefix', () => {
    const text = `${'x'.repeat(500)}${CANARY_TOKEN}`
    const out = scrub(text, [CANARY_TOKEN])
    expect(out).not.toContain(CANARY_TOKEN.slice(0, 8))
    expect(out.endsWith(REDACTED)).toBe(true)
  })
})
