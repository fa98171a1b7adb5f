// Issue 11, "Bad input": hostile or broken STS answers to AssumeRoleWithWebIdentity against a real
// loopback server. Every one ends in a clear CredentialsError code, no crash, no hang, no secret.
import { fromWebIdentity } from '@podcreds/web-identity'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { rejectionOf } from '../support/errors.js'
import { printedForms } from '../support/secrets.js'
import { tempDir } from '../support/tempDir.js'
import type { Recorder } from './helpers.js'
import {
  CANARY_KEY_ID,
  CANARY_SECRET,
  CANARY_SESSION,
  CANARY_TOKEN,
  expectCode,
  expectNoLeak,
  startRawServer,
  startRecorder,
  stsBody,
  stsError,
} from './helpers.js'

const MiB = 1024 * 1024
const ROLE = 'arn:aws:iam::123456789012:role/hardening'
let servers: { close(): Promise<void> }[] = []
let files: Awaited<ReturnType<typeof tempDir>>
let tokenFile: string

beforeAll(async () => {
  files = await tempDir('podcreds-hardening-')
  tokenFile = await files.write('token', CANARY_TOKEN)
})
afterAll(() => files.cleanup())
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()))
  servers = []
})

async function sts(
  status: number,
  body: string | Buffer,
  headers: Record<string, string> = { 'content-type': 'text/xml' },
): Promise<Recorder> {
  const server = await startRecorder((_req, res) => {
    res.writeHead(status, headers)
    res.end(body)
  })
  servers.push(server)
  return server
}

const provider = (origin: string, extra: Parameters<typeof fromWebIdentity>[0] = {}) =>
  fromWebIdentity({
    tokenFile,
    roleArn: ROLE,
    region: 'eu-west-1',
    endpoint: `${origin}/`,
    maxAttempts: 1,
    timeoutMs: 1500,
    env: {},
    ...extra,
  })

async function failsWith(origin: string, code: string, extra: Parameters<typeof fromWebIdentity>[0] = {}) {
  const error = await rejectionOf(provider(origin, extra)())
  expectCode(error, code)
  return error as Error & { code: string; status?: number; stsCode?: string }
}

describe('STS answers that are not credentials', () => {
  it('an empty 200 body → ERR_RESPONSE_INVALID', async () => {
    const server = await sts(200, '')
    await failsWith(server.origin, 'ERR_RESPONSE_INVALID')
  })

  it.each([
    ['cut inside the credentials', stsBody().slice(0, stsBody().indexOf('<SessionToken>') + 20)],
    ['cut inside a tag', stsBody().slice(0, stsBody().indexOf('<Expiration>') + 5)],
    ['only the root start tag', '<AssumeRoleWithWebIdentityResponse>'],
    ['mismatched closing tag', stsBody().replace('</Credentials>', '</Credential>')],
  ])('truncated or malformed XML: %s → ERR_RESPONSE_INVALID', async (_name, body) => {
    const server = await sts(200, body)
    await failsWith(server.origin, 'ERR_RESPONSE_INVALID')
  })

  it('a 10 MiB body → ERR_RESPONSE_INVALID at the 64 KiB cap', async () => {
    const body = Buffer.from(stsBody({ extra: `<Padding>${'A'.repeat(10 * MiB)}</Padding>` }))
    const server = await sts(200, body)
    const error = await failsWith(server.origin, 'ERR_RESPONSE_INVALID')
    expect(error.message).toMatch(/exceeds/)
  })

  it('invalid UTF-8 → ERR_RESPONSE_INVALID', async () => {
    const body = Buffer.from(stsBody({ extra: '<X>ZZ</X>' }))
    const at = body.indexOf('ZZ')
    body[at] = 0xc3
    body[at + 1] = 0x28
    const server = await sts(200, body)
    const error = await failsWith(server.origin, 'ERR_RESPONSE_INVALID')
    expect(error.message).toMatch(/UTF-8/)
  })

  it.each([
    [
      'a missing SecretAccessKey',
      `<AccessKeyId>${CANARY_KEY_ID}</AccessKeyId><SessionToken>${CANARY_SESSION}</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration>`,
    ],
    [
      'an element instead of text',
      `<AccessKeyId><Id>${CANARY_KEY_ID}</Id></AccessKeyId><SecretAccessKey>${CANARY_SECRET}</SecretAccessKey><SessionToken>${CANARY_SESSION}</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration>`,
    ],
    [
      'an empty SessionToken',
      `<AccessKeyId>${CANARY_KEY_ID}</AccessKeyId><SecretAccessKey>${CANARY_SECRET}</SecretAccessKey><SessionToken></SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration>`,
    ],
    [
      'a repeated SecretAccessKey',
      `<AccessKeyId>${CANARY_KEY_ID}</AccessKeyId><SecretAccessKey>${CANARY_SECRET}</SecretAccessKey><SecretAccessKey>${CANARY_SECRET}2</SecretAccessKey><SessionToken>${CANARY_SESSION}</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration>`,
    ],
  ])('wrong types: %s → ERR_RESPONSE_INVALID naming the field', async (_name, credentials) => {
    const server = await sts(200, stsBody({ credentials }))
    const error = await failsWith(server.origin, 'ERR_RESPONSE_INVALID')
    expect(error.message).toMatch(/Credentials\.\w+/)
  })

  it.each([
    ['unparseable', 'tomorrow'],
    ['a number', '4102444800'],
    ['a secret', CANARY_SECRET],
    ['an impossible date', '2099-13-45T99:99:99Z'],
  ])('an Expiration that is %s → ERR_RESPONSE_INVALID', async (_name, expiration) => {
    const server = await sts(200, stsBody({ expiration }))
    const error = await failsWith(server.origin, 'ERR_RESPONSE_INVALID')
    expect(error.message).toMatch(/Expiration/)
  })

  it.each([
    ['long ago', '2001-01-01T00:00:00Z'],
    ['a second ago', () => new Date(Date.now() - 1000).toISOString()],
  ])('an Expiration in the past (%s) → ERR_RESPONSE_INVALID', async (_name, expiration) => {
    const server = await sts(
      200,
      stsBody({ expiration: typeof expiration === 'function' ? expiration() : expiration }),
    )
    const error = await failsWith(server.origin, 'ERR_RESPONSE_INVALID')
    expect(error.message).toMatch(/Expiration/)
  })

  it('a Content-Length that lies (promises more, then closes) → ERR_RESPONSE_INVALID', async () => {
    const server = await startRawServer((socket) => {
      const body = stsBody()
      socket.end(
        `HTTP/1.1 200 OK\r\ncontent-type: text/xml\r\ncontent-length: ${body.length + 100}\r\n\r\n${body}`,
      )
    })
    servers.push(server)
    await failsWith(server.origin, 'ERR_RESPONSE_INVALID')
  })

  it('slowloris: headers, then silence → ERR_HTTP_TIMEOUT', async () => {
    const server = await startRawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-type: text/xml\r\ncontent-length: 5000\r\n\r\n<Assume')
    })
    servers.push(server)
    await failsWith(server.origin, 'ERR_HTTP_TIMEOUT', { timeoutMs: 300 })
  })

  it('an error answer echoing the token is scrubbed and keeps its STS code', async () => {
    const server = await sts(400, stsError('InvalidIdentityToken', `bad token ${CANARY_TOKEN}`))
    const error = await failsWith(server.origin, 'ERR_STS')
    expect(error.stsCode).toBe('InvalidIdentityToken')
    expect(error.message).toContain('[redacted]')
    // InvalidIdentityToken is retried once after re-reading the file (a rotation race), no more.
    expect(server.hits).toHaveLength(2)
  })

  it('an HTML error page from a proxy → ERR_HTTP_STATUS', async () => {
    const server = await sts(502, '<html><body>Bad gateway', { 'content-type': 'text/html' })
    const error = await failsWith(server.origin, 'ERR_HTTP_STATUS')
    expect(error.status).toBe(502)
  })
})

describe('XML attacks are refused before parsing', () => {
  const billionLaughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
${stsBody({ expiration: '&lol9;' })}`
  const xxe = `<?xml version="1.0"?>
<!DOCTYPE foo [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
${stsBody({ accessKeyId: '&xxe;' })}`
  const doctypeOnly = `<?xml version="1.0"?><!DOCTYPE AssumeRoleWithWebIdentityResponse>${stsBody()}`
  const parameterEntity = `<!DOCTYPE x [ <!ENTITY % p SYSTEM "http://127.0.0.1:1/x.dtd"> %p; ]>${stsBody()}`
  const lowerCase = `<!doctype x>${stsBody()}`

  it.each([
    ['billion laughs', billionLaughs],
    ['external entity (XXE)', xxe],
    ['a bare DOCTYPE around a valid answer', doctypeOnly],
    ['a parameter entity', parameterEntity],
    ['a lower-case doctype', lowerCase],
  ])('%s → ERR_RESPONSE_INVALID', async (_name, body) => {
    const server = await sts(200, body)
    const error = await failsWith(server.origin, 'ERR_RESPONSE_INVALID')
    expect(error.message).toMatch(/DOCTYPE or ENTITY/)
  })

  it('a billion-laughs error document with a 400 is a status error, not an expansion', async () => {
    const server = await sts(
      400,
      billionLaughs.replace(stsBody({ expiration: '&lol9;' }), stsError('X', '&lol9;')),
    )
    const error = await failsWith(server.origin, 'ERR_HTTP_STATUS')
    expect(error.message.length).toBeLessThan(400)
  })

  it('an undeclared entity reference is not expanded', async () => {
    const server = await sts(200, stsBody({ accessKeyId: '&xxe;' }))
    // No DTD, so nothing to expand: the reference is kept as literal text.
    const credentials = await provider(server.origin)()
    expect(credentials.accessKeyId).toBe('&xxe;')
    expectNoLeak(...printedForms(credentials))
  })
})

describe('STS answers that are odd but valid are accepted', () => {
  it('extra elements are ignored', async () => {
    const server = await sts(
      200,
      stsBody({
        extra:
          '<Provider>oidc</Provider><Audience>sts.amazonaws.com</Audience><Unknown><Deep>1</Deep></Unknown>',
      }),
    )
    const credentials = await provider(server.origin)()
    expect(credentials.accessKeyId).toBe(CANARY_KEY_ID)
    expect(credentials.secretAccessKey).toBe(CANARY_SECRET)
    expect(credentials.accountId).toBe('123456789012')
  })

  it('an Expiration more than 7 days ahead is accepted as is', async () => {
    const far = new Date(Date.now() + 30 * 86_400_000)
    const server = await sts(200, stsBody({ expiration: far.toISOString() }))
    expect((await provider(server.origin)()).expiration?.getTime()).toBe(far.getTime())
  })

  it('predefined entities and character references in a value are decoded once', async () => {
    const server = await sts(200, stsBody({ accessKeyId: 'ASIA&amp;&lt;&#x41;&#65;KEYID000001' }))
    expect((await provider(server.origin)()).accessKeyId).toBe('ASIA&<AAKEYID000001')
  })

  it('a response with an XML declaration and CDATA', async () => {
    const server = await sts(
      200,
      `<?xml version="1.0" encoding="UTF-8"?>${stsBody({ accessKeyId: `<![CDATA[${CANARY_KEY_ID}]]>` })}`,
    )
    // fast-xml-parser keeps CDATA text as the element's value.
    const credentials = await provider(server.origin)()
    expect(credentials.accessKeyId).toBe(CANARY_KEY_ID)
  })
})
