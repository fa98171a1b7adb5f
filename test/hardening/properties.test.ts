// Issue 11: fast-check property tests for every parser (agent JSON, STS XML, token files, JWTs,
// service-account subjects) and for the container URL allowlist. Parsers either return a value or
// throw a CredentialsError with the documented code, never anything else and never a secret; the
// allowlist is proven with a recorder that sees every request actually made.
import { isIPv4 } from 'node:net'
import { inspect } from 'node:util'
import { fromEnv } from '@podcreds/chain'
import { checkEndpoint, fromContainer } from '@podcreds/container'
import type { HttpRequest, HttpResponse } from '@podcreds/core'
import { isCredentialsError } from '@podcreds/core'
import { decodeToken, inspectToken, parseServiceAccountSubject, readToken } from '@podcreds/token'
import { fromWebIdentity, resolveStsEndpoint } from '@podcreds/web-identity'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { printedForms } from '../support/secrets.js'
import { tempDir } from '../support/tempDir.js'
import type { Recorder } from './helpers.js'
import {
  agentBody,
  CANARY_KEY_ID,
  CANARY_SECRET,
  CANARY_SESSION,
  CANARY_TOKEN,
  expectNoLeak,
  hasIpv6Loopback,
  startRecorder,
  stsBody,
} from './helpers.js'

const NOW = Date.UTC(2026, 0, 1)
const clock = { now: () => NOW, setTimeout: () => ({}), clearTimeout: () => {} }

/** Asserts `error` is a CredentialsError with one of `codes`, and leaks nothing. */
function expectClearError(error: unknown, codes: readonly string[]): void {
  if (!isCredentialsError(error))
    throw new Error(`not a CredentialsError: ${String(error)}`, { cause: error })
  expect(codes).toContain(error.code)
  expectNoLeak(...printedForms(error))
}

const fakeTransport =
  (status: number, body: string) =>
  async (_request: HttpRequest): Promise<HttpResponse> => ({ status, headers: {}, body })

// ---- the independent oracle of the allowlist ---------------------------------------------------

/** DESIGN "@podcreds/container": any https:, http: only to the agents and loopback, no user info. */
function allowedByDesign(text: string): boolean {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return false
  }
  if (url.username !== '' || url.password !== '') return false
  if (url.protocol === 'https:') return true
  if (url.protocol !== 'http:') return false
  const host = url.hostname
  if (isIPv4(host)) return host.startsWith('127.') || host === '169.254.170.2' || host === '169.254.170.23'
  return ['[::1]', '[fd00:ec2::23]', 'localhost'].includes(host)
}

// ---- URL generators ------------------------------------------------------------------------------

const HOSTS = [
  '127.0.0.1',
  '127.1',
  '127.255.255.254',
  '0x7f000001',
  '0x7F.1',
  '2130706433',
  '0177.0.0.1',
  '127.0.0.1.',
  'localhost',
  'LOCALHOST',
  'localhost.',
  '[::1]',
  '[0:0:0:0:0:0:0:1]',
  '[::ffff:127.0.0.1]',
  '[::ffff:169.254.169.254]',
  '169.254.169.254',
  '169.254.170.2',
  '169.254.170.23',
  '169.254.170.24',
  '[fd00:ec2::23]',
  '[fd00:ec2::254]',
  '0xa9fea9fe',
  '2852039166',
  '%31%36%39.254.169.254',
  '%31%32%37.0.0.1',
  '127.0.0.1.nip.io',
  'lоcalhost',
  'ⅼocalhost',
  'ｌｏｃａｌｈｏｓｔ',
  '１２７.０.０.１',
  '10.0.0.1',
  '0.0.0.0',
  '[::]',
  'example.com',
  'sts.amazonaws.com',
]

const host = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...HOSTS) },
  { weight: 1, arbitrary: fc.ipV4() },
  { weight: 1, arbitrary: fc.ipV4Extended() },
  { weight: 1, arbitrary: fc.ipV6().map((ip) => `[${ip}]`) },
  { weight: 1, arbitrary: fc.domain() },
)

// Percent-encodes or upper-cases some characters of a host: forms a naive check misses.
const disguised = fc
  .tuple(host, fc.array(fc.tuple(fc.nat(), fc.constantFrom('percent', 'upper')), { maxLength: 3 }))
  .map(([h, edits]) => {
    const chars = [...h]
    for (const [n, kind] of edits) {
      const i = n % chars.length
      const c = chars[i]!
      if (c === '[' || c === ']' || c === ':') continue
      chars[i] =
        kind === 'upper'
          ? c.toUpperCase()
          : encodeURIComponent(c) === c
            ? `%${c.charCodeAt(0).toString(16)}`
            : c
    }
    return chars.join('')
  })

const userInfo = fc.constantFrom(
  '',
  '',
  '',
  'user@',
  'u:p@',
  '169.254.170.23@',
  '127.0.0.1@',
  'localhost:80@',
  '@',
)

/** Any URL text, including schemes that must never be requested (no network here: a fake transport). */
const anyUrl = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.constantFrom('http', 'https', 'HTTP', 'hTtPs', 'ftp', 'file', 'ws', 'gopher', 'javascript'),
        fc.constantFrom('://', '://', ':/', ':', ':///', '://\\'),
        userInfo,
        disguised,
        fc.constantFrom('', ':80', ':8080', ':0', ':65536', ':-1'),
        fc.constantFrom('/v1/credentials', '', '/', '/..%2f..', '?x=1', '#f', '\\x'),
      )
      .map((parts) => parts.join('')),
  },
  { weight: 1, arbitrary: fc.webUrl({ withFragments: true, withQueryParameters: true }) },
  { weight: 1, arbitrary: fc.string() },
)

describe('URL allowlist', () => {
  it('checkEndpoint: accepts exactly what the design allows, refuses the rest with a clear code', () => {
    fc.assert(
      fc.property(anyUrl, (url) => {
        let accepted: URL | undefined
        try {
          accepted = checkEndpoint(url)
        } catch (error) {
          expectClearError(error, ['ERR_ENDPOINT_NOT_ALLOWED', 'ERR_INVALID_CONFIG'])
        }
        expect(accepted !== undefined, url).toBe(allowedByDesign(url))
      }),
      { numRuns: 2000 },
    )
  })

  it('fromContainer (fake transport): every request it makes goes to an allowed URL', async () => {
    const requested: string[] = []
    await fc.assert(
      fc.asyncProperty(anyUrl, async (url) => {
        const provider = fromContainer({
          env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: url, AWS_CONTAINER_AUTHORIZATION_TOKEN: CANARY_TOKEN },
          maxAttempts: 1,
          clock,
          transport: async (request) => {
            requested.push(request.url.href)
            return { status: 200, headers: {}, body: agentBody() }
          },
        })
        const before = requested.length
        await provider().catch((error: unknown) =>
          expectClearError(error, ['ERR_ENDPOINT_NOT_ALLOWED', 'ERR_INVALID_CONFIG', 'ERR_NOT_CONFIGURED']),
        )
        const sent = requested.slice(before)
        expect(sent.length).toBe(allowedByDesign(url) ? 1 : 0)
        for (const href of sent) expect(allowedByDesign(href), href).toBe(true)
      }),
      { numRuns: 1500 },
    )
    expect(requested.length).toBeGreaterThan(0)
  })

  describe('against a recorder that sees every request on loopback', () => {
    let v4: Recorder
    let v6: Recorder | undefined
    beforeAll(async () => {
      const answer = (_req: unknown, res: import('node:http').ServerResponse) => {
        res.writeHead(200, { 'content-type': 'application/json' }).end(agentBody())
      }
      v4 = await startRecorder(answer)
      if (await hasIpv6Loopback()) v6 = await startRecorder(answer, '::1')
    })
    afterAll(async () => {
      await v4.close()
      await v6?.close()
    })

    // Only hosts that reach this machine: allowed loopback forms, and disallowed forms that a broken
    // check would still connect to locally (IPv4-mapped loopback, 0.0.0.0, [::], `localhost.`).
    // Nothing generated here can leave the machine, even if the allowlist were broken.
    const LOCAL_V4 = [
      '127.0.0.1',
      '127.1',
      '0x7f000001',
      '2130706433',
      '0177.0.0.1',
      '127.000.000.001',
      '127.0.0.1.',
      '%31%32%37.0.0.1',
      '１２７.０.０.１',
      'localhost',
      'LocalHost',
      'ｌｏｃａｌｈｏｓｔ',
      '[::ffff:127.0.0.1]',
      '[::ffff:7f00:1]',
      '0.0.0.0',
      '0',
      'localhost.',
    ]
    const LOCAL_V6 = ['[::1]', '[0:0:0:0:0:0:0:1]', '[::]', '[0::0]']

    it('a hit only ever happens for an allowed loopback URL, and every allowed one hits', async () => {
      let id = 0
      const made = new Map<string, string>()
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('http', 'HTTP', 'Http'),
          fc.constantFrom('', '', 'x@', 'u:p@', '127.0.0.1@', 'localhost@'),
          fc.constantFrom(...LOCAL_V4, ...(v6 === undefined ? [] : LOCAL_V6)),
          fc.boolean(),
          async (scheme, info, h, asOption) => {
            const port = LOCAL_V6.includes(h) ? v6!.port : v4.port
            const key = `/probe/${++id}`
            const url = `${scheme}://${info}${h}:${port}${key}`
            made.set(key, url)
            const hitsBefore = v4.hits.length + (v6?.hits.length ?? 0)
            const limits = { maxAttempts: 1, timeoutMs: 1000, connectTimeoutMs: 500 }
            if (asOption) {
              // The option form: a disallowed URL is a TypeError at construction, nothing sent.
              let provider: ReturnType<typeof fromContainer> | undefined
              try {
                provider = fromContainer({
                  fullUri: url,
                  authorizationToken: CANARY_TOKEN,
                  env: {},
                  ...limits,
                })
              } catch (error) {
                expect(error).toBeInstanceOf(TypeError)
                expectClearError((error as TypeError).cause, [
                  'ERR_ENDPOINT_NOT_ALLOWED',
                  'ERR_INVALID_CONFIG',
                ])
              }
              await provider?.()
            } else {
              await fromContainer({
                env: {
                  AWS_CONTAINER_CREDENTIALS_FULL_URI: url,
                  AWS_CONTAINER_AUTHORIZATION_TOKEN: CANARY_TOKEN,
                },
                ...limits,
              })().catch((error: unknown) =>
                expectClearError(error, ['ERR_ENDPOINT_NOT_ALLOWED', 'ERR_INVALID_CONFIG']),
              )
            }
            const hitsAfter = v4.hits.length + (v6?.hits.length ?? 0)
            expect(hitsAfter - hitsBefore, url).toBe(allowedByDesign(url) ? 1 : 0)
          },
        ),
        { numRuns: 300 },
      )
      // Every recorded hit maps back to a URL the design allows.
      const hits = [...v4.hits, ...(v6?.hits ?? [])]
      expect(hits.length).toBeGreaterThan(0)
      for (const hit of hits) {
        const url = made.get(hit.url)
        expect(url, hit.url).toBeDefined()
        expect(allowedByDesign(url!), url).toBe(true)
      }
    })
  })
})

// ---- parsers ---------------------------------------------------------------------------------

const jsonValue = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 2 }),
  fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
)

describe('agent JSON parser (fromContainer)', () => {
  const parse = (body: string) =>
    fromContainer({
      fullUri: 'http://127.0.0.1/v1/credentials',
      authorizationToken: CANARY_TOKEN,
      maxAttempts: 1,
      clock,
      env: {},
      transport: fakeTransport(200, body),
    })()

  it('any body: credentials or ERR_RESPONSE_INVALID, never another error or a secret', async () => {
    const body = fc.oneof(
      fc.string(),
      fc.json(),
      fc
        .record(
          {
            AccessKeyId: jsonValue,
            SecretAccessKey: jsonValue,
            Token: jsonValue,
            Expiration: jsonValue,
            AccountId: jsonValue,
          },
          { requiredKeys: [] },
        )
        .map((r) => JSON.stringify(r)),
      fc.tuple(fc.nat(), fc.string()).map(([cut, tail]) => {
        const valid = agentBody()
        return valid.slice(0, cut % valid.length) + tail
      }),
    )
    await fc.assert(
      fc.asyncProperty(body, async (text) => {
        try {
          const credentials = await parse(text)
          expect(credentials.expiration!.getTime()).toBeGreaterThan(NOW)
          expect(credentials.accessKeyId).toBeTypeOf('string')
        } catch (error) {
          expectClearError(error, ['ERR_RESPONSE_INVALID'])
        }
      }),
      { numRuns: 1500 },
    )
  })

  it('valid answers round-trip exactly', async () => {
    const nonEmpty = fc.string({ minLength: 1 })
    await fc.assert(
      fc.asyncProperty(
        nonEmpty,
        nonEmpty,
        nonEmpty,
        fc.date({ min: new Date(NOW + 1000), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }),
        fc.option(fc.stringMatching(/^\d{12}$/), { nil: undefined }),
        async (AccessKeyId, SecretAccessKey, Token, expiration, AccountId) => {
          const credentials = await parse(
            JSON.stringify({
              AccessKeyId,
              SecretAccessKey,
              Token,
              Expiration: expiration.toISOString(),
              AccountId,
            }),
          )
          expect(credentials.accessKeyId).toBe(AccessKeyId)
          expect(credentials.secretAccessKey).toBe(SecretAccessKey)
          expect(credentials.sessionToken).toBe(Token)
          expect(credentials.expiration?.getTime()).toBe(expiration.getTime())
          expect(credentials.accountId).toBe(AccountId)
          // Printing the credentials never prints the secrets.
          expect(String(JSON.stringify(credentials))).not.toContain(
            `"secretAccessKey":${JSON.stringify(SecretAccessKey)}`,
          )
        },
      ),
      { numRuns: 500 },
    )
  })
})

describe('STS XML parser (fromWebIdentity)', () => {
  let files: Awaited<ReturnType<typeof tempDir>>
  let tokenFile: string
  beforeAll(async () => {
    files = await tempDir('podcreds-hardening-')
    tokenFile = await files.write('token', CANARY_TOKEN)
  })
  afterAll(() => files.cleanup())

  const exchange = (status: number, body: string) =>
    fromWebIdentity({
      tokenFile,
      roleArn: 'arn:aws:iam::123456789012:role/hardening',
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1/',
      maxAttempts: 1,
      clock,
      env: {},
      transport: fakeTransport(status, body),
    })()

  const mutated = fc.oneof(
    fc.string(),
    fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => {
      const valid = stsBody()
      return valid.slice(0, a % valid.length) + valid.slice((a % valid.length) + (b % 40))
    }),
    fc
      .tuple(
        fc.nat(),
        fc.oneof(
          fc.string(),
          fc.constantFrom(
            '<',
            '>',
            '&',
            '<!DOCTYPE x>',
            '<![CDATA[',
            ']]>',
            '<!ENTITY',
            '&lol;',
            '</Credentials>',
            '<Credentials>',
          ),
        ),
      )
      .map(([at, insert]) => {
        const valid = stsBody()
        const i = at % valid.length
        return valid.slice(0, i) + insert + valid.slice(i)
      }),
  )

  it('any 200 body: credentials or ERR_RESPONSE_INVALID, never another error or a secret', async () => {
    await fc.assert(
      fc.asyncProperty(mutated, async (body) => {
        try {
          const credentials = await exchange(200, body)
          expect(credentials.expiration!.getTime()).toBeGreaterThan(NOW)
        } catch (error) {
          expectClearError(error, ['ERR_RESPONSE_INVALID'])
        }
      }),
      { numRuns: 1000 },
    )
  })

  it('any error body with any status: ERR_STS or ERR_HTTP_STATUS, never another error or a secret', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(400, 403, 429, 500, 503),
        fc.oneof(
          mutated,
          fc
            .tuple(fc.string(), fc.string())
            .map(
              ([code, message]) =>
                `<ErrorResponse><Error><Code>${code}</Code><Message>${message} ${CANARY_TOKEN}</Message></Error></ErrorResponse>`,
            ),
        ),
        async (status, body) => {
          const error = await exchange(status, body).then(
            () => new Error('resolved on an error status'),
            (e: unknown) => e,
          )
          expectClearError(error, ['ERR_STS', 'ERR_HTTP_STATUS'])
        },
      ),
      { numRuns: 500 },
    )
  })
})

describe('token parsers', () => {
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const jwtLike = fc.oneof(
    fc.string(),
    fc
      .array(fc.stringMatching(/^[A-Za-z0-9_-]*$/), { minLength: 1, maxLength: 5 })
      .map((parts) => parts.join('.')),
    fc
      .tuple(fc.jsonValue(), fc.jsonValue())
      .map(([header, claims]) => `${b64(header)}.${b64(claims)}.${CANARY_TOKEN.split('.')[2]}`),
    fc
      .tuple(
        fc.record({
          alg: fc.oneof(fc.string(), fc.constant('RS256'), fc.integer()),
          kid: fc.option(fc.string()),
        }),
        fc.record(
          {
            iss: jsonValue,
            sub: jsonValue,
            aud: jsonValue,
            exp: fc.oneof(fc.integer(), fc.double(), fc.string()),
            iat: fc.oneof(fc.integer(), fc.double(), fc.string()),
            'kubernetes.io': fc.oneof(jsonValue, fc.record({ namespace: jsonValue, pod: jsonValue })),
          },
          { requiredKeys: [] },
        ),
      )
      .map(([header, claims]) => `${b64(header)}.${b64(claims)}.${CANARY_TOKEN.split('.')[2]}`),
  )

  it('decodeToken and inspectToken: a value or ERR_TOKEN_INVALID, never the token in a message', () => {
    fc.assert(
      fc.property(jwtLike, (token) => {
        try {
          const decoded = decodeToken(token)
          expect(decoded.claims).toBeTypeOf('object')
          const inspection = inspectToken(token, { now: NOW })
          expect(Array.isArray(inspection.audiences)).toBe(true)
        } catch (error) {
          expectClearError(error, ['ERR_TOKEN_INVALID'])
        }
      }),
      { numRuns: 2000 },
    )
  })

  it('parseServiceAccountSubject: a value or ERR_TOKEN_INVALID; valid subjects round-trip', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string().map((s) => `system:serviceaccount:${s}`),
        ),
        (subject) => {
          try {
            const { namespace, name } = parseServiceAccountSubject(subject)
            expect(`system:serviceaccount:${namespace}:${name}`).toBe(subject)
          } catch (error) {
            expectClearError(error, ['ERR_TOKEN_INVALID'])
          }
        },
      ),
      { numRuns: 2000 },
    )
    const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/)
    fc.assert(
      fc.property(label, fc.array(label, { minLength: 1, maxLength: 3 }), (namespace, parts) => {
        const name = parts.join('.')
        expect(parseServiceAccountSubject(`system:serviceaccount:${namespace}:${name}`)).toEqual({
          namespace,
          name,
        })
      }),
    )
  })

  it('readToken: any bytes give the trimmed text or ERR_TOKEN_FILE, never the content in a message', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 64 }),
          fc.string().map((s) => new TextEncoder().encode(`${CANARY_TOKEN}${s}`)),
          fc.uint8Array({ maxLength: 8 }).map((tail) => Buffer.concat([Buffer.from(CANARY_TOKEN), tail])),
        ),
        async (bytes) => {
          try {
            const token = await readToken('/virtual/token', { readFile: async () => bytes, maxBytes: 4096 })
            expect(token).toBe(new TextDecoder('utf-8', { fatal: true }).decode(bytes).trimEnd())
            expect(token.trim()).not.toBe('')
          } catch (error) {
            expectClearError(error, ['ERR_TOKEN_FILE'])
          }
        },
      ),
      { numRuns: 1000 },
    )
  })
})

describe('environment parsers', () => {
  const envValue = fc.oneof(
    fc.constant(undefined),
    fc.string(),
    fc.constantFrom(
      '',
      ' ',
      'true',
      'false',
      'TRUE',
      'yes',
      'legacy',
      'regional',
      'us-east-1',
      'cn-north-1',
      'us-gov-west-1',
      'aws-global',
    ),
    fc.constantFrom(
      'http://127.0.0.1:1/',
      'https://sts.example.com',
      'ftp://x',
      'http://u:p@127.0.0.1/',
      'not a url',
    ),
  )
  const stsEnv = fc.record(
    {
      AWS_REGION: envValue,
      AWS_DEFAULT_REGION: envValue,
      AWS_ENDPOINT_URL_STS: envValue,
      AWS_ENDPOINT_URL: envValue,
      AWS_USE_FIPS_ENDPOINT: envValue,
      AWS_USE_DUALSTACK_ENDPOINT: envValue,
      AWS_STS_REGIONAL_ENDPOINTS: envValue,
      AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: envValue,
    },
    { requiredKeys: [] },
  )

  it('resolveStsEndpoint: any environment gives an http(s) URL or a clear error; without a configured URL it is https', () => {
    fc.assert(
      fc.property(stsEnv, fc.option(fc.string(), { nil: undefined }), (env, region) => {
        let endpoint: ReturnType<typeof resolveStsEndpoint> | undefined
        try {
          endpoint = resolveStsEndpoint({
            env: env as Record<string, string | undefined>,
            ...(region === undefined ? {} : { region }),
          })
        } catch (error) {
          if (error instanceof TypeError) return
          expectClearError(error, ['ERR_INVALID_CONFIG'])
          return
        }
        expect(['http:', 'https:']).toContain(endpoint.url.protocol)
        if (!endpoint.source.startsWith('AWS_ENDPOINT_URL')) {
          expect(endpoint.url.protocol).toBe('https:')
          // Every partition's DNS suffixes, plain and dual-stack, as the AWS SDK's partitions
          // table gives them (issue 19 made the endpoints equal to the SDK's).
          expect(endpoint.url.hostname).toMatch(
            /\.(amazonaws\.com(\.cn)?|api\.aws|api\.amazonwebservices\.com\.cn|c2s\.ic\.gov|api\.aws\.ic\.gov|sc2s\.sgov\.gov|api\.aws\.scloud|cloud\.adc-e\.uk|api\.cloud-aws\.adc-e\.uk|csp\.hci\.ic\.gov|api\.aws\.hci\.ic\.gov|amazonaws\.eu|api\.amazonwebservices\.eu)$/,
          )
        }
      }),
      { numRuns: 2000 },
    )
  })

  it('fromEnv: any AWS_* key variables give credentials or a clear error, never the secret in a message', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            AWS_ACCESS_KEY_ID: fc.oneof(fc.constant(CANARY_KEY_ID), envValue),
            AWS_SECRET_ACCESS_KEY: fc.oneof(fc.constant(CANARY_SECRET), envValue),
            AWS_SESSION_TOKEN: fc.oneof(fc.constant(CANARY_SESSION), envValue),
            AWS_CREDENTIAL_EXPIRATION: fc.oneof(
              envValue,
              fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
              fc.constant(CANARY_SECRET),
            ),
            AWS_ACCOUNT_ID: envValue,
          },
          { requiredKeys: [] },
        ),
        async (env) => {
          try {
            const credentials = await fromEnv({ env: env as Record<string, string | undefined> })()
            expect(credentials.accessKeyId).toBeTypeOf('string')
            expect(credentials.secretAccessKey).toBeTypeOf('string')
            expectNoLeak(inspect(credentials), JSON.stringify(credentials))
          } catch (error) {
            expectClearError(error, ['ERR_NOT_CONFIGURED', 'ERR_INVALID_CONFIG', 'ERR_CREDENTIALS_EXPIRED'])
          }
        },
      ),
      { numRuns: 1000 },
    )
  })
})
