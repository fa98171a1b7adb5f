import { request } from 'node:http'
import { connect } from 'node:net'
import { describe, expect, it } from 'vitest'
import { isLoopback, takeViolations } from './support/networkGuard.mjs'
import { runNode } from './support/subprocess.js'

// Issue 17, part 6: the guard of the test setup (test/support/networkGuard.mjs) must fire, here
// and in child processes, before any byte goes to a non-loopback address. 192.0.2.1 is TEST-NET-1
// (RFC 5737), which nothing answers; the guard blocks it before a SYN anyway.
describe('network guard', () => {
  it('blocks an http request to IMDS (169.254.169.254) and records the violation', async () => {
    const error = await new Promise<Error>((resolve) => {
      request('http://169.254.169.254/latest/api/token', { method: 'PUT' }).on('error', resolve).end()
    })
    expect(error.message).toMatch(
      /podcreds test guard: blocked an outgoing connection to 169\.254\.169\.254:80/,
    )
    // Taken here so that this test, which trips the guard on purpose, passes.
    expect(takeViolations()).toEqual([expect.stringContaining('169.254.169.254:80')])
  })

  it('blocks raw sockets to IPv6 and TEST-NET addresses, lets loopback through', async () => {
    const blocked = await Promise.all(
      [
        ['fd00:ec2::254', 80],
        ['192.0.2.1', 443],
      ].map(
        ([host, port]) =>
          new Promise<string>((resolve) => {
            connect(port as number, host as string).on('error', (error) => resolve(error.message))
          }),
      ),
    )
    const loopback = await new Promise<string>((resolve) => {
      connect(9, '127.0.0.1').on('error', (error) => resolve((error as NodeJS.ErrnoException).code ?? ''))
    })
    expect(blocked).toEqual([
      expect.stringContaining('fd00:ec2::254:80'),
      expect.stringContaining('192.0.2.1:443'),
    ])
    expect(loopback).toBe('ECONNREFUSED') // really attempted
    expect(takeViolations()).toHaveLength(2)
  })

  it('classifies loopback hosts', () => {
    expect(['127.0.0.1', '127.8.9.10', '::1', '[::1]', 'localhost'].map(isLoopback)).toEqual([
      true,
      true,
      true,
      true,
      true,
    ])
    expect(
      ['169.254.169.254', 'fd00:ec2::254', '10.0.0.1', 'sts.amazonaws.com', '::ffff:a9fe:a9fe'].map(
        isLoopback,
      ),
    ).toEqual([false, false, false, false, false])
  })

  it('fires in a child process started by runNode (NODE_OPTIONS=--import): stderr names it, exit code 86', async () => {
    const script = `require('node:http').get('http://169.254.169.254/latest/meta-data/').on('error', () => {})`
    const result = await runNode(['-e', script])
    expect(result.stderr).toContain(
      'podcreds test guard: blocked an outgoing connection to 169.254.169.254:80',
    )
    expect(result.code).toBe(86)
  })
})
