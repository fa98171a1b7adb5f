import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildPackage } from '../../../test/support/build.js'
import type { FakeAgent } from './fakeAgent.js'
import { startAgent } from './fakeAgent.js'

const dist = new URL('../dist/index.js', import.meta.url).href

let agent: FakeAgent

beforeAll(async () => {
  // The subprocess runs the built package, as a user would.
  buildPackage(fileURLToPath(new URL('..', import.meta.url)))
  // The server would keep an idle connection for a minute: only the client side can let go.
  agent = await startAgent(undefined, { keepAliveTimeoutMs: 60_000 })
}, 120_000)

afterAll(async () => {
  await agent?.close()
})

describe('a process using fromContainer', () => {
  it('exits on its own after one call (keep-alive sockets and timers do not hold it open)', async () => {
    const script = `
      import { fromContainer } from ${JSON.stringify(dist)}
      const creds = await fromContainer()()
      process.stdout.write(creds.accessKeyId + ' ' + Date.now())
    `
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: {
        PATH: process.env['PATH'],
        AWS_CONTAINER_CREDENTIALS_FULL_URI: agent.url,
        AWS_CONTAINER_AUTHORIZATION_TOKEN: 'subprocess-token',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
    })
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    let exitedAt = 0
    const code = await new Promise<number | string>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL')
        resolve('did not exit within 10 s')
      }, 10_000)
      child.on('exit', (exitCode, signal) => {
        exitedAt = Date.now()
        clearTimeout(timer)
        resolve(exitCode ?? String(signal))
      })
    })
    expect(stderr).toBe('')
    expect(code).toBe(0)
    const [keyId, doneAt] = stdout.split(' ')
    expect(keyId).toBe('ASIAFAKEKEYID0000001')
    // Well under the 4 s idle-socket timeout of core's agent: a referenced keep-alive socket would
    // hold the process until that timeout closed it.
    expect(exitedAt - Number(doneAt)).toBeLessThan(3000)
    expect(agent.hits).toHaveLength(1)
    expect(agent.hits[0]!.headers.authorization).toBe('subprocess-token')
  }, 30_000)
})
