import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer as createHttpsServer } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { closeServer, listenLoopback } from '../../../test/support/loopback.js'
import type { RunResult } from '../../../test/support/subprocess.js'
import { runNode } from '../../../test/support/subprocess.js'
import { hasOpenssl, makeSelfSignedCert } from '../../../test/support/tls.js'
import { builtCoreEntry, startServer } from './helpers.js'

// "A process that used the HTTP helper exits by itself right after its work": the keep-alive
// agent's idle sockets and the clock's timers must not hold the event loop (issue 3).

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

let dir: string
let entry: string
beforeAll(async () => {
  entry = pathToFileURL(builtCoreEntry()).href
  dir = await mkdtemp(join(tmpdir(), 'podcreds-core-exit-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Runs `script` as an ES module in a fresh `node`; kills it if it has not exited by `deadlineMs`. */
async function runScript(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  deadlineMs = 3000,
): Promise<RunResult> {
  const file = join(dir, `script-${Math.random().toString(36).slice(2)}.mjs`)
  await writeFile(file, script)
  return runNode([file, ...args], { env: { PATH: process.env.PATH, ...env }, deadlineMs })
}

const workScript = (core: string): string => `
import { httpRequest, retry, sleep, systemClock, CredentialsError } from ${JSON.stringify(core)}
const base = process.argv[2]
const first = await httpRequest({ url: new URL(base + '/one') })
const second = await httpRequest({ url: new URL(base + '/two') }, { timeoutMs: 5000 })
let attempts = 0
const third = await retry(async () => {
  attempts++
  if (attempts < 2) throw new CredentialsError('flaky', { code: 'ERR_NETWORK' })
  return httpRequest({ url: new URL(base + '/three') })
}, { baseDelayMs: 20 })
await sleep(5, systemClock)
console.log(JSON.stringify([first.body, second.body, third.body, attempts]))
`

describe('a process that used the HTTP helper', () => {
  it('exits by itself right after its work (keep-alive sockets idle, timers unref’d)', async () => {
    const s = await startServer((req, res) => res.end(`hello ${req.url}`))
    cleanups.push(() => s.close())
    const result = await runScript(workScript(entry), [s.url])
    expect(result.stderr).toBe('')
    expect(result.timedOut).toBe(false)
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout)).toEqual(['hello /one', 'hello /two', 'hello /three', 2])
    // The work did use keep-alive: one connection, still open on the server side when the
    // client exited (the server's idle timeout is a minute).
    expect(s.hits).toBe(3)
    expect(s.connections).toBe(1)
  })

  it('stays alive for a pending request and exits once it is answered', async () => {
    let answer: (() => void) | undefined
    const s = await startServer((_req, res) => {
      answer = () => res.end('late')
    })
    cleanups.push(() => s.close())
    const script = `
import { httpRequest } from ${JSON.stringify(entry)}
const res = await httpRequest({ url: new URL(process.argv[2]) }, { timeoutMs: 10000 })
console.log(res.body)
`
    const running = runScript(script, [s.url], {}, 5000)
    for (let i = 0; i < 400 && answer === undefined; i++) await new Promise((r) => setTimeout(r, 5))
    // The request timers are unref'd, yet the open socket keeps the process waiting for it.
    await new Promise((r) => setTimeout(r, 200))
    answer?.()
    const result = await running
    expect(result).toMatchObject({ code: 0, timedOut: false, stdout: 'late\n' })
  })

  it.runIf(hasOpenssl())('uses https with a trusted certificate and still exits by itself', async () => {
    const tls = await mkdtemp(join(tmpdir(), 'podcreds-core-tls-'))
    cleanups.push(() => rm(tls, { recursive: true, force: true }))
    const { cert, key, certPath } = makeSelfSignedCert(tls)
    let connections = 0
    const server = createHttpsServer({ cert, key }, (req, res) => res.end(`secure ${req.url}`))
    server.keepAliveTimeout = 60_000
    server.on('secureConnection', () => connections++)
    const { port } = await listenLoopback(server)
    cleanups.push(() => closeServer(server))
    const url = `https://127.0.0.1:${port}`
    const result = await runScript(workScript(entry), [url], { NODE_EXTRA_CA_CERTS: certPath })
    expect(result.stderr).toBe('')
    expect(result).toMatchObject({ code: 0, timedOut: false })
    expect(JSON.parse(result.stdout)).toEqual(['secure /one', 'secure /two', 'secure /three', 2])
    expect(connections).toBe(1)
  })

  it('loads node:https only for an https: URL, and never undici (DESIGN "Cold-start budget")', async () => {
    const s = await startServer((_req, res) => res.end('ok'))
    cleanups.push(() => s.close())
    const gone = await startServer(() => {})
    await gone.close()
    const script = `
const heavy = () => process.moduleLoadList.filter((m) => /\\b(https|tls|undici)\\b/.test(m))
const core = await import(${JSON.stringify(entry)})
const afterImport = heavy()
await core.httpRequest({ url: new URL(process.argv[2]) })
const afterHttp = heavy()
const err = await core.httpRequest({ url: new URL(process.argv[3].replace('http:', 'https:')) }).catch((e) => e)
console.log(JSON.stringify({ afterImport, afterHttp, afterHttps: heavy(), code: err.code }))
`
    const result = await runScript(script, [s.url, gone.url])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const loaded = JSON.parse(result.stdout) as Record<string, string[] | string>
    expect(loaded.afterImport).toEqual([])
    expect(loaded.afterHttp).toEqual([])
    expect(loaded.afterHttps).toContain('NativeModule https')
    expect(String(loaded.afterHttps)).not.toContain('undici')
    expect(loaded.code).toBe('ERR_NETWORK')
  })
})
