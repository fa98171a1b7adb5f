import { inspect } from 'node:util'
import { checkEndpoint } from '@podcreds/container'
import { CredentialsError } from '@podcreds/core'
import { describe, expect, it } from 'vitest'
import { assertNoSecret } from '../../../test/support/secrets.js'

function codeOf(url: string): string | undefined {
  try {
    checkEndpoint(url)
    return undefined
  } catch (error) {
    expect(error).toBeInstanceOf(CredentialsError)
    return (error as CredentialsError).code
  }
}

describe('checkEndpoint', () => {
  it.each([
    ['https://creds.example.com/v1/credentials', 'creds.example.com'],
    ['https://10.0.0.1:8443/x', '10.0.0.1'],
    ['http://169.254.170.2/v2/credentials/abc', '169.254.170.2'],
    ['http://169.254.170.23/v1/credentials', '169.254.170.23'],
    ['http://[fd00:ec2::23]/v1/credentials', '[fd00:ec2::23]'],
    ['http://[FD00:EC2::23]/v1/credentials', '[fd00:ec2::23]'],
    ['http://[fd00:ec2:0:0:0:0:0:23]:80/v1/credentials', '[fd00:ec2::23]'],
    ['http://127.0.0.1:8080/creds', '127.0.0.1'],
    ['http://127.1/creds', '127.0.0.1'],
    ['http://0x7f000001/creds', '127.0.0.1'],
    ['http://2130706433/creds', '127.0.0.1'],
    ['http://127.255.255.255/creds', '127.255.255.255'],
    ['http://[::1]:1234/creds', '[::1]'],
    ['http://[0:0:0:0:0:0:0:1]/creds', '[::1]'],
    ['http://localhost/creds', 'localhost'],
    ['http://LOCALHOST:9000/creds', 'localhost'],
  ])('accepts %s (normalized host %s)', (url, host) => {
    expect(checkEndpoint(url).hostname).toBe(host)
  })

  it.each([
    'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
    'http://169.254.170.24/v1/credentials',
    'http://[fd00:ec2::24]/v1/credentials',
    'http://192.168.1.1/',
    'http://10.0.0.1/',
    'http://172.16.0.1/',
    'http://128.0.0.1/',
    'http://localhost./creds',
    'http://[::ffff:127.0.0.1]/creds',
    'http://[::ffff:169.254.170.23]/creds',
    'http://127.0.0.1.nip.io/creds',
    'http://localhost.example.com/creds',
    'http://example.com/creds',
    'file:///etc/passwd',
    'ftp://127.0.0.1/creds',
    'ws://127.0.0.1/creds',
  ])('rejects %s with ERR_ENDPOINT_NOT_ALLOWED', (url) => {
    expect(codeOf(url)).toBe('ERR_ENDPOINT_NOT_ALLOWED')
  })

  it.each(['', 'not a url', '/v1/credentials', '169.254.170.23/v1/credentials', 'http://[fd00:ec2::23/x'])(
    'rejects the unparsable %j with ERR_INVALID_CONFIG',
    (url) => {
      expect(codeOf(url)).toBe('ERR_INVALID_CONFIG')
    },
  )

  it('rejects user info with ERR_INVALID_CONFIG and never echoes the password', () => {
    for (const url of [
      'http://user:SECRETCANARYpw1@127.0.0.1:8080/creds',
      'https://user:SECRETCANARYpw1@creds.example.com/',
      'http://SECRETCANARYpw1@169.254.170.23/v1/credentials',
    ]) {
      let caught: unknown
      try {
        checkEndpoint(url)
      } catch (error) {
        caught = error
      }
      expect((caught as CredentialsError).code).toBe('ERR_INVALID_CONFIG')
      expect((caught as CredentialsError).tryNextLink).toBe(false)
      assertNoSecret(caught, ['SECRETCANARYpw1'])
    }
  })

  it('does not echo an unparsable URI, which may hold a password', () => {
    let caught: unknown
    try {
      checkEndpoint('http://u:SECRETCANARYpw2@[bad')
    } catch (error) {
      caught = error
    }
    expect((caught as CredentialsError).code).toBe('ERR_INVALID_CONFIG')
    assertNoSecret(caught, ['SECRETCANARYpw2'])
    expect(inspect(caught)).not.toContain('[bad')
  })

  it('names the rejected endpoint and stops a chain', () => {
    let caught: unknown
    try {
      checkEndpoint('http://169.254.169.254/latest')
    } catch (error) {
      caught = error
    }
    expect((caught as CredentialsError).message).toContain('http://169.254.169.254/latest')
    expect((caught as CredentialsError).tryNextLink).toBe(false)
  })
})
