import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import type { ContainerOptions } from '@podcreds/container'
import { fromContainer } from '@podcreds/container'
import type { HttpRequest, HttpTransport } from '@podcreds/core'
import { CredentialsError } from '@podcreds/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { rejectionOf } from '../../../test/support/errors.js'
import { kubeletTokenDir } from '../../../test/support/kubeletTokenDir.js'
import { mulberry32 } from '../../../test/support/random.js'
import { assertNoSecret } from '../../../test/support/secrets.js'
import type { FakeAgent } from './fakeAgent.js'
import { credentialsBody, instantSleepClock, ok, startAgent } from './fakeAgent.js'

const TOKEN_CANARY = 'SECRETCANARYtoken.eyJzdWIiOiJ4In0.sig'
const SECRET_CANARY = 'SECRETCANARYsecretkey0123456789'
const SESSION_CANARY = 'SECRETCANARYsessiontoken0123456789'

let agent: FakeAgent
let dir: string

beforeEach(async () => {
  agent = await startAgent()
  dir = await mkdtemp(join(tmpdir(), 'podcreds-container-'))
})

afterEach(async () => {
  await agent.close()
  await rm(dir, { recursive: true, force: true })
})

/** A provider against the fake agent with instant back-off and a seeded random. */
function provider(env: Record<string, string | undefined>, options: ContainerOptions = {}) {
  return fromContainer({ env, clock: instantSleepClock(), random: mulberry32(1), ...options })
}

async function tokenFile(content: string, name = 'token'): Promise<string> {
  const path = join(dir, name)
  await writeFile(path, content)
  return path
}

describe('fromContainer: a successful call', () => {
  it('returns credentials with expiration as a Date and accountId, sending the raw token', async () => {
    agent.respond(ok({ AccountId: '123456789012', Expiration: '2099-03-04T05:06:07Z' }))
    const path = await tokenFile(`${TOKEN_CANARY}\n`)
    const creds = await provider({
      AWS_CONTAINER_CREDENTIALS_FULL_URI: agent.url,
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: path,
    })()

    expect(creds.accessKeyId).toBe('ASIAFAKEKEYID0000001')
    expect(creds.secretAccessKey).toBe('fake-secret-access-key')
    expect(creds.sessionToken).toBe('fake-session-token')
    expect(creds.expiration).toBeInstanceOf(Date)
    expect(creds.expiration.toISOString()).toBe('2099-03-04T05:06:07.000Z')
    expect(creds.accountId).toBe('123456789012')
    expect(agent.hits).toHaveLength(1)
    const hit = agent.hits[0]!
    expect(hit.method).toBe('GET')
    expect(hit.path).toBe('/v1/credentials')
    // Raw, trailing newline trimmed, no `Bearer`.
    expect(hit.headers.authorization).toBe(TOKEN_CANARY)
    expect(hit.headers.accept).toBe('application/json')
  })

  it('leaves accountId undefined when the agent sends none (ECS)', async () => {
    const creds = await provider({ AWS_CONTAINER_CREDENTIALS_FULL_URI: agent.url })()
    expect(creds.accountId).toBeUndefined()
    expect(Object.keys(creds)).not.toContain('accountId')
  })

  it('redacts the credentials in util.inspect and JSON.stringify', async () => {
    agent.respond(ok({ SecretAccessKey: SECRET_CANARY, Token: SESSION_CANARY }))
    const creds = await provider({ AWS_CONTAINER_CREDENTIALS_FULL_URI: agent.url })()
    expect(creds.secretAccessKey).toBe(SECRET_CANARY)
    for (const form of [inspect(creds), JSON.stringify(creds)]) {
      expect(form).not.toContain(SECRET_CANARY)
      expect(form).not.toContain(SESSION_CANARY)
    }
  })

  it('ignores the identity properties the AWS SDK passes', async () => {
    const creds = await provider({ AWS_CONTAINER_CREDENTIALS_FULL_URI: agent.url })({
      callerClientConfig: { region: 'eu-west-1' },
    })
    expect(creds.accessKeyId).toBe('ASIAFAKEKEYID0000001')
  })

  it('sends no Authorization header when no token is configured', async () => {
    await provider({ AWS_CONTAINER_CREDENTIALS_FULL_URI: agent.url })()
    expect(agent.hits[0]!.headers.authorization).toBeUndefined()
  })

  it('reuses one keep-alive connection for sequential calls', async () => {
    const get = provider({ AWS_CONTAINER_CREDENTIALS_FULL_URI: agent.url })
    await get()
    await get()
    await get()
    expect(agent.hits).toHaveLength(3)
    expect(agent.connections()).toBe(1)
    expect(new Set(agent.hits.map((h) => h.connection))).toEqual(new Set([1]))
  })

  it('logs debug lines without secrets', async () => {
    agent.respond(ok({ SecretAccessKey: SECRET_CANARY, Token: SESSION_CANARY }))
    const lines: string[] = []
    const logger = {
      debug: (message: string, fields?: Record<string, unknown>) => lines.push(inspect({ message, fields })),
    }
    await provider(
      { AWS_CONTAINER_CREDENTIALS_FULL_URI: agent.url, AWS_CONTAINER_AUTHORIZATION_TOKEN: TOKEN_CANARY },
      { logger },
    )()
    expect(lines.length).toBeGreaterThanOrEqual(2)
    for (const line of lines) {
      for (const secret of [TOKEN_CANARY, SECRET_CANARY, SESSION_CANARY, 'ASIAFAKEKEYID0000001']) {
        expect(line).not.toContain(secret)
      }
    }
    expect(lines.join('\n')).toContain('ASIA…0001')
  })
})

describe('fromContainer: precedence and environment', () => {
  it('reads the environment per call from options.env', async () => {
    const other = await startAgent()
    try {
      const env: Record<string, string | undefined> = {}
      const get = provider(env)
      expect((await rejectionOf(get())).code).toBe('ERR_NOT_CONFIGURED')
      env['AWS_CONTAINER_CREDENTIALS_FULL_URI'] = agent.url
      await get()
      env['AWS_CONTAINER_CREDENTIALS_FULL_URI'] = other.url
      await get()
      expect(agent.hits).toHaveLength(1)
      expect(other.hits).toHaveLength(1)
    } finally {
      await other.close()
    }
  })

  it('lets the fullUri option beat AWS_CONTAINER_CREDENTIALS_FULL_URI', async () => {
    const other = await startAgent()
    try {
      await provider({ AWS_CONTAINER_CREDENTIALS_FULL_URI: other.url }, { fullUri: agent.url })()
      expect(agent.hits).toHaveLength(1)
      expect(other.hits).toHaveLength(0)
    } finally {
      await other.close()
    }
  })

  it('lets explicit URI options beat a relative URI from the environment', async () => {
    await provider({ AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/v2/credentials/x' }, { fullUri: agent.url })()
    expect(agent.hits).toHaveLength(1)
  })

  describe('relative URIs (169.254.170.2 is not on loopback: a recording transport stands in)', () => {
    function recordingTransport(): HttpTransport & { urls: string[]; requests: HttpRequest[] } {
      const urls: string[] = []
      const requests: HttpRequest[] = []
      const transport = async (request: HttpRequest) => {
        urls.push(request.url.href)
        requests.push(request)
        return { status: 200, headers: {}, body: credentialsBody() }
      }
      return Object.assign(transport, { urls, requests })
    }

    it('resolves AWS_CONTAINER_CREDENTIALS_RELATIVE_URI against http://169.254.170.2', async () => {
      const transport = recordingTransport()
      await provider({ AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/v2/credentials/abc' }, { transport })()
      expect(transport.urls).toEqual(['http://169.254.170.2/v2/credentials/abc'])
    })

    it('prefers the relative URI over the full URI, in the environment and in options', async () => {
      const transport = recordingTransport()
      await provider(
        {
          AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/v2/credentials/env',
          AWS_CONTAINER_CREDENTIALS_FULL_URI: agent.url,
        },
        { transport },
      )()
      await provider({}, { transport, relativeUri: '/v2/credentials/opt', fullUri: agent.url })()
      expect(transport.urls).toEqual([
        'http://169.254.170.2/v2/credentials/env',
        'http://169.254.170.2/v2/credentials/opt',
      ])
      expect(agent.hits).toHaveLength(0)
    })

    it.each(['@evil.example/x', '.evil.example/x', 'v2/credentials'])(
      'rejects the relative URI %j without a leading slash, sending nothing',
      async (relative) => {
        const transport = recordingTransport()
        const err = await rejectionOf(
          provider({ AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: relative }, { transport })(),
        )
        expect(err.code).toBe('ERR_ENDPOINT_NOT_ALLOWED')
        expect(err.tryNextLink).toBe(false)
        expect(transport.urls).toHaveLength(0)
      },
    )
  })

  it('lets the token file beat the inline token', async () => {
    const path = await tokenFile('from-the-file')
    await provider({
      AWS_CONTAINER_CREDENTIALS_FULL_URI: agent.url,
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: path,
      AWS_CONTAINER_AUTHORIZATION_TOKEN: 'from-the-env',
    })()
    await provider(
      { AWS_CONTAINER_CREDENTIALS_FULL_URI: agent.url },
      { authorizationTokenFile: path, authorizationToken: 'from-the-option' },
    )()
    expect(agent.hits.map((h) => h.headers.authorization)).toEqual(['from-the-file', 'from-the-file'])
  })

  it('lets token options beat token variables', async () => {
    const envFile = await tokenFile('from-the-env-file', 'env-token')
    const optFile = await tokenFile('from-the-option-file', 'opt-token')
    const env = {
      AWS_CONTAINER_CREDENTIALS_FULL_URI: agent.url,
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: envFile,
      AWS_CONTAINER_AUTHORIZATION_TOKEN: 'from-the-env',
    }
    await provider(env, { authorizationTokenFile: optFile })()
    await provider(env, { authorizationToken: 'from-the-option' })()
    await provider(env)()
    expect(agent.hits.map((h) => h.headers.authorization)).toEqual([
      'from-the-option-file',
      'from-the-option',
      'from-the-env-file',
    ])
  })

  it('uses the inline token of the environment when no file is set, trimmed', async () => {
    await provider({
      AWS_CONTAINER_CREDENTIALS_FULL_URI: agent.url,
      AWS_CONTAINER_AUTHORIZATION_TOKEN: ' inline-token \n',
    })()
    expect(agent.hits[0]!.headers.authorization).toBe('inline-token')
  })

  it('answers ERR_NOT_CONFIGURED with tryNextLink when neither URI is set', async () => {
    const err = await rejectionOf(provider({ AWS_CONTAINER_AUTHORIZATION_TOKEN: TOKEN_CANARY })())
    expect(err).toBeInstanceOf(CredentialsError)
    expect(err.code).toBe('ERR_NOT_CONFIGURED')
    expect(err.tryNextLink).toBe(true)
    expect(err.message).toContain('AWS_CONTAINER_CREDENTIALS_FULL_URI')
    assertNoSecret(err, [TOKEN_CANARY])
  })

  it('treats empty variables as unset', async () => {
    const err = await rejectionOf(
      provider({ AWS_CONTAINER_CREDENTIALS_FULL_URI: '', AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '  ' })(),
    )
    expect(err.code).toBe('ERR_NOT_CONFIGURED')
  })

  it('stops the chain on a disallowed or malformed URI from the environment, sending nothing', async () => {
    const imds = await rejectionOf(
      provider({ AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://169.254.169.254/latest/meta-data/' })(),
    )
    expect(imds.code).toBe('ERR_ENDPOINT_NOT_ALLOWED')
    expect(imds.tryNextLink).toBe(false)
    const userinfo = await rejectionOf(
      provider({
        AWS_CONTAINER_CREDENTIALS_FULL_URI: agent.url.replace('http://', 'http://u:SECRETCANARYpw@'),
      })(),
    )
    expect(userinfo.code).toBe('ERR_INVALID_CONFIG')
    assertNoSecret(userinfo, ['SECRETCANARYpw'])
    const garbage = await rejectionOf(provider({ AWS_CONTAINER_CREDENTIALS_FULL_URI: 'not a url' })())
    expect(garbage.code).toBe('ERR_INVALID_CONFIG')
    expect(agent.hits).toHaveLength(0)
  })
})

describe('fromContainer: the token file', () => {
  it('is re-read on every call: a rewrite between calls sends the new token', async () => {
    const path = await tokenFile('token-one\n')
    const get = provider({
      AWS_CONTAINER_CREDENTIALS_FULL_URI: agent.url,
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: path,
    })
    await get()
    await writeFile(path, 'token-two\n')
    await get()
    expect(agent.hits.map((h) => h.headers.authorization)).toEqual(['token-one', 'token-two'])
  })

  it('follows a kubelet-style atomic ..data symlink swap', async () => {
    const volume = await kubeletTokenDir({
      dir: join(dir, 'serviceaccount'),
      token: 'rotated-one\n',
      removeOld: true,
    })
    const get = provider({
      AWS_CONTAINER_CREDENTIALS_FULL_URI: agent.url,
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: volume.path,
    })
    await get()

    await volume.write('rotated-two\n')
    await get()

    expect(agent.hits.map((h) => h.headers.authorization)).toEqual(['rotated-one', 'rotated-two'])
  })

  it.each([
    ['missing', async () => join(dir, 'does-not-exist')],
    ['a directory', async () => dir],
    ['empty', async () => tokenFile('\n')],
  ])('rejects a token file that is %s with ERR_TOKEN_FILE, sending nothing', async (_what, makePath) => {
    const path = await makePath()
    const err = await rejectionOf(
      provider({
        AWS_CONTAINER_CREDENTIALS_FULL_URI: agent.url,
        AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: path,
        AWS_CONTAINER_AUTHORIZATION_TOKEN: TOKEN_CANARY,
      })(),
    )
    expect(err).toBeInstanceOf(CredentialsError)
    expect(err.code).toBe('ERR_TOKEN_FILE')
    // A configured but broken source stops the chain (DESIGN "Errors").
    expect(err.tryNextLink).toBe(false)
    expect(err.message).toContain(path)
    expect(agent.hits).toHaveLength(0)
    assertNoSecret(err, [TOKEN_CANARY])
  })

  it.each([
    ['CR LF', `${TOKEN_CANARY}\r\nX-Injected: 1`],
    ['LF', `${TOKEN_CANARY}\nsecond-line`],
    ['CR', `${TOKEN_CANARY}\rX`],
    ['NUL', `${TOKEN_CANARY}\u0000X`],
  ])(
    'rejects a token file with %s inside with ERR_TOKEN_INVALID, sending nothing',
    async (_what, content) => {
      const path = await tokenFile(`${content}\n`)
      const err = await rejectionOf(
        provider({
          AWS_CONTAINER_CREDENTIALS_FULL_URI: agent.url,
          AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: path,
        })(),
      )
      expect(err.code).toBe('ERR_TOKEN_INVALID')
      expect(err.tryNextLink).toBe(false)
      expect(agent.hits).toHaveLength(0)
      assertNoSecret(err, [TOKEN_CANARY])
    },
  )

  it('rejects an inline token from the environment with a line break inside, sending nothing', async () => {
    const err = await rejectionOf(
      provider({
        AWS_CONTAINER_CREDENTIALS_FULL_URI: agent.url,
        AWS_CONTAINER_AUTHORIZATION_TOKEN: `${TOKEN_CANARY}\r\nX-Injected: 1`,
      })(),
    )
    expect(err.code).toBe('ERR_TOKEN_INVALID')
    expect(agent.hits).toHaveLength(0)
    assertNoSecret(err, [TOKEN_CANARY])
  })

  it('reads through the injected readFile', async () => {
    const paths: string[] = []
    const readFile = async (path: string) => {
      paths.push(path)
      return new TextEncoder().encode('from-the-seam\n')
    }
    await provider(
      {
        AWS_CONTAINER_CREDENTIALS_FULL_URI: agent.url,
        AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: '/no/such/token',
      },
      { readFile },
    )()
    expect(paths).toEqual(['/no/such/token'])
    expect(agent.hits[0]!.headers.authorization).toBe('from-the-seam')
  })
})

describe('fromContainer: option validation', () => {
  it.each<[string, ContainerOptions]>([
    ['timeoutMs', { timeoutMs: 0 }],
    ['timeoutMs', { timeoutMs: Number.NaN }],
    ['connectTimeoutMs', { connectTimeoutMs: -1 }],
    ['maxAttempts', { maxAttempts: 0 }],
    ['maxAttempts', { maxAttempts: 1.5 }],
    ['maxAttempts', { maxAttempts: 11 }],
    ['clock', { clock: {} as never }],
    ['random', { random: 0.5 as never }],
    ['logger', { logger: { debug: 'yes' } as never }],
    ['signal', { signal: {} as never }],
    ['env', { env: 'AWS_REGION=x' as never }],
    ['transport', { transport: {} as never }],
    ['readFile', { readFile: 'fs' as never }],
    ['fullUri', { fullUri: '' }],
    ['fullUri', { fullUri: 42 as never }],
    ['authorizationTokenFile', { authorizationTokenFile: '' }],
  ])('throws a TypeError naming %s', (name, options) => {
    expect(() => fromContainer(options)).toThrow(TypeError)
    expect(() => fromContainer(options)).toThrow(name)
  })

  it.each<[string, ContainerOptions, string]>([
    ['fullUri', { fullUri: 'http://169.254.169.254/' }, 'ERR_ENDPOINT_NOT_ALLOWED'],
    ['fullUri', { fullUri: 'gopher://127.0.0.1/' }, 'ERR_ENDPOINT_NOT_ALLOWED'],
    ['fullUri', { fullUri: 'http://u:SECRETCANARYpw@127.0.0.1/' }, 'ERR_INVALID_CONFIG'],
    ['relativeUri', { relativeUri: 'v2/credentials' }, 'ERR_ENDPOINT_NOT_ALLOWED'],
    ['relativeUri', { relativeUri: '@evil.example/' }, 'ERR_ENDPOINT_NOT_ALLOWED'],
    ['authorizationToken', { authorizationToken: `${TOKEN_CANARY}\nX: 1` }, 'ERR_TOKEN_INVALID'],
  ])(
    'throws a TypeError naming %s for a bad value, with the CredentialsError as cause',
    (name, options, code) => {
      let caught: unknown
      try {
        fromContainer(options)
      } catch (error) {
        caught = error
      }
      expect(caught).toBeInstanceOf(TypeError)
      expect((caught as Error).message).toContain(name)
      expect(((caught as Error).cause as CredentialsError).code).toBe(code)
      assertNoSecret(caught, ['SECRETCANARYpw', TOKEN_CANARY])
    },
  )

  it('does no I/O at construction', () => {
    const get = fromContainer({
      env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: agent.url, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: '/nope' },
    })
    expect(typeof get).toBe('function')
    expect(typeof get.describe).toBe('function')
    expect(agent.hits).toHaveLength(0)
  })
})

describe('fromContainer: abort', () => {
  it('rejects with ERR_ABORTED when the signal aborts mid-request', async () => {
    agent.respond(() => 'hang')
    const controller = new AbortController()
    const pending = provider(
      { AWS_CONTAINER_CREDENTIALS_FULL_URI: agent.url },
      { signal: controller.signal },
    )()
    while (agent.hits.length === 0) await new Promise((resolve) => setTimeout(resolve, 5))
    controller.abort()
    const err = await rejectionOf(pending)
    expect(err.code).toBe('ERR_ABORTED')
    expect(agent.hits).toHaveLength(1)
  })
})
