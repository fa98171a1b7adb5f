import { createServer } from 'node:net'
import { inspect } from 'node:util'
import { CredentialsError } from '@podcreds/core'
import { fromWebIdentity } from '@podcreds/web-identity'
import { describe, expect, it } from 'vitest'
import { fixedClock, makeJwt } from './helpers/tokens.js'

const CANARY = 'SECRETCANARYproxypassword0001'

/** A loopback port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())))
  return port
}

/** Every form an error reaches a log in, causes included. */
function forms(error: CredentialsError): string[] {
  const out = [
    error.message,
    error.stack ?? '',
    inspect(error, { depth: 20 }),
    JSON.stringify(error),
    JSON.stringify(error.toJSON()),
    String(error),
  ]
  for (let cause: unknown = error.cause; cause !== undefined && cause !== null; ) {
    out.push(inspect(cause, { depth: 20 }), String(cause), JSON.stringify(cause) ?? '')
    if (cause instanceof Error) {
      out.push(cause.message, cause.stack ?? '')
      cause = cause.cause
    } else break
  }
  return out
}

/** Runs one call through the proxy variables of `env` (no retry) and returns its error. */
async function failure(env: Record<string, string>, endpoint?: string): Promise<CredentialsError> {
  const error = await fromWebIdentity({
    roleArn: 'arn:aws:iam::123456789012:role/app-role',
    tokenFile: '/var/run/secrets/eks.amazonaws.com/serviceaccount/token',
    readFile: async () => Buffer.from(makeJwt()),
    endpoint,
    env: { ...env, AWS_REGION: 'eu-west-1' },
    clock: fixedClock(),
    random: () => 0,
    maxAttempts: 1,
  })().then(
    () => undefined,
    (err: unknown) => err,
  )
  expect(error).toBeInstanceOf(CredentialsError)
  return error as CredentialsError
}

describe('a failing proxy connection', () => {
  it.each(['HTTP_PROXY', 'HTTPS_PROXY'])(
    'never shows the password of %s in any form of the error, its cause included',
    async (variable) => {
      const port = await closedPort()
      const proxyUrl = `http://user:${CANARY}@127.0.0.1:${port}`
      // HTTP_PROXY serves http: endpoints, HTTPS_PROXY the default https: one.
      const endpoint = variable === 'HTTP_PROXY' ? `http://127.0.0.1:${await closedPort()}` : undefined
      const credentialsError = await failure({ [variable]: proxyUrl }, endpoint)

      expect(credentialsError.code).toBe('ERR_NETWORK')
      expect(credentialsError.message).toMatch(/ECONNREFUSED|UND_ERR/)
      // The cause is a copy carrying the error code only: undici's own error may name the proxy.
      const cause = credentialsError.cause as Error & { code?: string }
      expect(cause.message).toBe(cause.code)
      expect(Object.keys(cause)).toEqual(['code'])
      for (const form of forms(credentialsError)) expect(form).not.toContain(CANARY)
    },
  )

  it.each([
    ['a malformed URL', 'http://user:SECRETCANARYproxypassword0001@[bad'],
    ['another scheme', 'ftp://user:SECRETCANARYproxypassword0001@127.0.0.1:1'],
  ])(
    'rejects %s in HTTPS_PROXY with ERR_INVALID_CONFIG naming the variable, never its value',
    async (_name, bad) => {
      const credentialsError = await failure({ https_proxy: bad })

      expect(credentialsError.code).toBe('ERR_INVALID_CONFIG')
      expect(credentialsError.message).toContain('HTTPS_PROXY')
      for (const form of forms(credentialsError)) expect(form).not.toContain(CANARY)
    },
  )
})
