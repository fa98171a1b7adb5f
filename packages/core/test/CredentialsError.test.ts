import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { CredentialsErrorCode } from '@podcreds/core'
import { CredentialsError, isCredentialsError, scrub } from '@podcreds/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { builtCoreEntry, CANARY_SECRET, CANARY_TOKEN, consoleLog, expectNoSecret } from './helpers.js'

const ALL_CODES = [
  'ERR_NOT_CONFIGURED',
  'ERR_INVALID_CONFIG',
  'ERR_ENDPOINT_NOT_ALLOWED',
  'ERR_TOKEN_FILE',
  'ERR_TOKEN_INVALID',
  'ERR_TOKEN_EXPIRED',
  'ERR_HTTP_TIMEOUT',
  'ERR_NETWORK',
  'ERR_HTTP_STATUS',
  'ERR_RESPONSE_INVALID',
  'ERR_STS',
  'ERR_CREDENTIALS_EXPIRED',
  'ERR_CHAIN_EXHAUSTED',
  'ERR_ABORTED',
] as const satisfies readonly CredentialsErrorCode[]

// Type-level: the list above is the whole closed union (a new code must be added here on purpose).
type Missing = Exclude<CredentialsErrorCode, (typeof ALL_CODES)[number]>
const listIsComplete: [Missing] extends [never] ? true : false = true

describe('CredentialsError', () => {
  it('lists every code of the closed union', () => {
    expect(listIsComplete).toBe(true)
    expect(new Set(ALL_CODES).size).toBe(ALL_CODES.length)
  })

  it('rejects an unknown code at compile time', () => {
    // @ts-expect-error: the code union is closed
    const err = new CredentialsError('x', { code: 'ERR_SOMETHING_ELSE' })
    expect(err.code).toBe('ERR_SOMETHING_ELSE')
  })

  it.each(ALL_CODES)('%s has the documented default flags', (code) => {
    const err = new CredentialsError('boom', { code })
    expect(err.code).toBe(code)
    expect(err.tryNextLink).toBe(code === 'ERR_NOT_CONFIGURED' || code === 'ERR_CHAIN_EXHAUSTED')
    expect(err.retryable).toBe(code === 'ERR_NETWORK' || code === 'ERR_HTTP_TIMEOUT')
    expect(err.status).toBeUndefined()
    expect(err.stsCode).toBeUndefined()
    expect(err.cause).toBeUndefined()
    expect('status' in err).toBe(false)
    expect('cause' in err).toBe(false)
  })

  it('takes explicit flags, status, stsCode and cause', () => {
    const cause = new Error('socket hang up')
    const err = new CredentialsError('STS said no', {
      code: 'ERR_STS',
      tryNextLink: true,
      retryable: true,
      status: 400,
      stsCode: 'InvalidIdentityToken',
      cause,
    })
    expect(err).toMatchObject({
      code: 'ERR_STS',
      tryNextLink: true,
      retryable: true,
      status: 400,
      stsCode: 'InvalidIdentityToken',
    })
    expect(err.cause).toBe(cause)
    const notConfigured = new CredentialsError('x', {
      code: 'ERR_NOT_CONFIGURED',
      tryNextLink: false,
      retryable: false,
    })
    expect(notConfigured.tryNextLink).toBe(false)
    const network = new CredentialsError('x', { code: 'ERR_NETWORK', retryable: false })
    expect(network.retryable).toBe(false)
  })

  it('is an Error with name, message and a stack', () => {
    const err = new CredentialsError('the token file is missing', { code: 'ERR_TOKEN_FILE' })
    expect(err).toBeInstanceOf(Error)
    expect(err).toBeInstanceOf(CredentialsError)
    expect(err.name).toBe('CredentialsError')
    expect(err.message).toBe('the token file is missing')
    expect(err.stack).toContain('CredentialsError: the token file is missing')
    expect(String(err)).toBe('CredentialsError: the token file is missing')
  })

  it('names a subclass after its constructor', () => {
    class EndpointError extends CredentialsError {}
    const err = new EndpointError('no', { code: 'ERR_ENDPOINT_NOT_ALLOWED' })
    expect(err.name).toBe('EndpointError')
    expect(err).toBeInstanceOf(CredentialsError)
    expect(isCredentialsError(err)).toBe(true)
  })

  it('serializes to a plain object for structured logs, with nested causes', () => {
    const inner = new CredentialsError('agent down', { code: 'ERR_NETWORK', status: 503 })
    const outer = new CredentialsError('expired and no source', {
      code: 'ERR_CREDENTIALS_EXPIRED',
      cause: inner,
    })
    expect(JSON.parse(JSON.stringify(outer))).toEqual({
      name: 'CredentialsError',
      code: 'ERR_CREDENTIALS_EXPIRED',
      message: 'expired and no source',
      tryNextLink: false,
      retryable: false,
      cause: {
        name: 'CredentialsError',
        code: 'ERR_NETWORK',
        message: 'agent down',
        tryNextLink: false,
        retryable: true,
        status: 503,
      },
    })
    const plain = new CredentialsError('x', { code: 'ERR_NETWORK', cause: new TypeError('bad') })
    expect(plain.toJSON().cause).toEqual({ name: 'TypeError', message: 'bad' })
    const notAnError = new CredentialsError('x', { code: 'ERR_ABORTED', cause: 'timeout' })
    expect(notAnError.toJSON()).not.toHaveProperty('cause')
  })

  it('isCredentialsError tells podcreds errors from anything else', () => {
    expect(isCredentialsError(new CredentialsError('x', { code: 'ERR_STS' }))).toBe(true)
    for (const value of [
      new Error('x'),
      { name: 'CredentialsError', code: 'ERR_STS', tryNextLink: false },
      null,
      undefined,
      'ERR_STS',
      42,
    ]) {
      expect(isCredentialsError(value)).toBe(false)
      expect(value instanceof CredentialsError).toBe(false)
    }
  })

  it('prints no secret in any form when built from scrubbed server text', () => {
    const serverText = `invalid token ${CANARY_TOKEN} for key ${CANARY_SECRET}`
    const err = new CredentialsError(
      `agent answered 400: ${scrub(serverText, [CANARY_TOKEN, CANARY_SECRET])}`,
      {
        code: 'ERR_HTTP_STATUS',
        status: 400,
        cause: new CredentialsError(scrub(serverText, [CANARY_TOKEN, CANARY_SECRET]), {
          code: 'ERR_TOKEN_INVALID',
        }),
      },
    )
    expectNoSecret(err)
    expect(consoleLog(err)).toContain('ERR_HTTP_STATUS')
    expect(err.message).toContain('[redacted]')
  })
})

describe('instanceof across two copies of @podcreds/core', () => {
  let dir: string
  let copyA: typeof import('@podcreds/core')
  let copyB: typeof import('@podcreds/core')

  beforeAll(async () => {
    const entry = builtCoreEntry()
    dir = await mkdtemp(join(tmpdir(), 'podcreds-core-copies-'))
    // Two installs of the package in different node_modules folders: separate module instances,
    // separate class objects (what a duplicate install in a real app looks like).
    for (const name of ['a', 'b']) {
      const pkg = join(dir, name, 'node_modules', '@podcreds', 'core')
      await cp(join(entry, '..'), join(pkg, 'dist'), { recursive: true })
      await writeFile(
        join(pkg, 'package.json'),
        JSON.stringify({ name: '@podcreds/core', type: 'module', exports: './dist/index.js' }),
      )
    }
    copyA = await import(pathToFileURL(join(dir, 'a/node_modules/@podcreds/core/dist/index.js')).href)
    copyB = await import(pathToFileURL(join(dir, 'b/node_modules/@podcreds/core/dist/index.js')).href)
  })

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('loads distinct classes', () => {
    expect(copyA.CredentialsError).not.toBe(copyB.CredentialsError)
    expect(copyA.CredentialsError).not.toBe(CredentialsError)
  })

  it('recognizes an error of one copy as an instance of the other', () => {
    const fromA = new copyA.CredentialsError('from a', { code: 'ERR_NETWORK' })
    const fromB = new copyB.CredentialsError('from b', { code: 'ERR_STS' })
    expect(fromA instanceof copyB.CredentialsError).toBe(true)
    expect(fromB instanceof copyA.CredentialsError).toBe(true)
    expect(fromA instanceof CredentialsError).toBe(true)
    expect(new CredentialsError('src', { code: 'ERR_STS' }) instanceof copyA.CredentialsError).toBe(true)
    expect(copyB.isCredentialsError(fromA)).toBe(true)
    expect(isCredentialsError(fromB)).toBe(true)
    expect(fromA instanceof Error).toBe(true)
  })

  it('does not recognize plain errors in either copy', () => {
    expect(new Error('x') instanceof copyA.CredentialsError).toBe(false)
    expect(copyB.isCredentialsError(new Error('x'))).toBe(false)
  })
})
