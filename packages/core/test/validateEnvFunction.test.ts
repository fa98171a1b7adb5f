import { validateEnv, validateFunction } from '@podcreds/core'
import { describe, expect, it } from 'vitest'

function typeError(fn: () => unknown): TypeError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(TypeError)
    return error as TypeError
  }
  throw new Error('expected a TypeError')
}

describe('validateEnv', () => {
  it('accepts undefined and any object of variables (process.env, a plain record, a null-prototype one)', () => {
    expect(() => validateEnv('env', undefined)).not.toThrow()
    expect(() => validateEnv('env', process.env)).not.toThrow()
    expect(() => validateEnv('env', { AWS_REGION: 'eu-west-1', UNSET: undefined })).not.toThrow()
    expect(() => validateEnv('env', Object.create(null))).not.toThrow()
  })

  it('rejects anything else with a TypeError naming the option, never echoing a value', () => {
    for (const [bad, kind] of [
      [null, 'null'],
      ['SECRETCANARYENV=1', 'a string'],
      [42, '42'],
      [() => ({}), 'function'],
    ] as const) {
      const error = typeError(() => validateEnv('webIdentity.env', bad))
      expect(error.message).toBe(`webIdentity.env must be an object of environment variables, got ${kind}`)
      expect(error.message).not.toContain('SECRETCANARY')
    }
  })
})

describe('validateFunction', () => {
  it('accepts undefined and functions, async ones included', () => {
    expect(() => validateFunction('transport', undefined)).not.toThrow()
    expect(() => validateFunction('transport', () => undefined)).not.toThrow()
    expect(() => validateFunction('readFile', async () => new Uint8Array())).not.toThrow()
  })

  it('rejects anything else with a TypeError naming the option and, when given, the signature', () => {
    expect(typeError(() => validateFunction('transport', {})).message).toBe(
      'transport must be a function, got object',
    )
    expect(typeError(() => validateFunction('readFile', null, '(path) => Promise<Uint8Array>')).message).toBe(
      'readFile must be a function (path) => Promise<Uint8Array>, got null',
    )
    const error = typeError(() => validateFunction('readFile', 'SECRETCANARYFN'))
    expect(error.message).toBe('readFile must be a function, got a string')
  })
})
