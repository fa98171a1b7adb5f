import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import type { Server as HttpsServer } from 'node:https'
import { createServer as createHttpsServer } from 'node:https'
import type { Server as NetServer, Socket } from 'node:net'
import { connect, createServer as createNetServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { HttpRequestOptions } from '@podcreds/core'
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_TIMEOUT_MS,
  describeUrl,
  httpRequest,
} from '@podcreds/core'
import { afterEach, describe, expect, it } from 'vitest'
import { credentialsErrorOf } from '../../../test/support/errors.js'
import { closeServer, listenLoopback } from '../../../test/support/loopback.js'
import { hasOpenssl, makeSelfSignedCert } from '../../../test/support/tls.js'
import type { TestServer } from './helpers.js'
import { CANARY_SECRET, CANARY_TOKEN, expectNoSecret, ManualClock, startServer } from './helpers.js'

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function server(handler: Parameters<typeof startServer>[0], host?: string): Promise<TestServer> {
  const s = await startServer(handler, host)
  cleanups.push(() => s.close())
  return s
}

/** A raw TCP server, for responses `node:http` would not produce (lying lengths, no TLS). */
async function rawServer(onSocket: (socket: Socket) => void): Promise<{ port: number; sockets: Socket[] }> {
  const sockets: Socket[] = []
  const srv: NetServer = createNetServer((socket) => {
    sockets.push(socket)
    socket.on('error', () => {})
    onSocket(socket)
  })
  const { port } = await listenLoopback(srv)
  cleanups.push(() => closeServer(srv, sockets))
  return { port, sockets }
}

/** Sends the response head and body once the request head has arrived. */
const answerRaw =
  (response: Buffer | string) =>
  (socket: Socket): void => {
    socket.once('data', () => socket.end(response))
  }

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5))
  expect(condition()).toBe(true)
}

describe('httpRequest', () => {
  it('has the documented defaults', () => {
    expect(DEFAULT_TIMEOUT_MS).toBe(2000)
    expect(DEFAULT_CONNECT_TIMEOUT_MS).toBe(1000)
    expect(DEFAULT_MAX_BODY_BYTES).toBe(65_536)
  })

  it('sends a GET and returns status, headers and the UTF-8 body', async () => {
    const s = await server((req, res) => {
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ path: req.url, method: req.method, auth: req.headers.authorization, é: 'ü' }))
    })
    const res = await httpRequest({
      url: new URL(`${s.url}/v1/credentials?x=1`),
      headers: { authorization: 'tok' },
    })
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toBe('application/json')
    expect(JSON.parse(res.body)).toEqual({ path: '/v1/credentials?x=1', method: 'GET', auth: 'tok', é: 'ü' })
  })

  it('sends a POST body with its byte length', async () => {
    let received = ''
    let length: string | undefined
    const s = await server((req, res) => {
      length = req.headers['content-length']
      req.setEncoding('utf8')
      req.on('data', (chunk: string) => {
        received += chunk
      })
      req.on('end', () => res.end('ok'))
    })
    const body = 'Action=AssumeRoleWithWebIdentity&RoleSessionName=é'
    const res = await httpRequest({ url: new URL(s.url), method: 'POST', body })
    expect(res.body).toBe('ok')
    expect(received).toBe(body)
    expect(length).toBe(String(Buffer.byteLength(body)))
  })

  it('never sends the URL user info', async () => {
    const s = await server((req, res) => res.end(String(req.headers.authorization)))
    const url = new URL(s.url)
    url.username = 'user'
    url.password = 'pass'
    const res = await httpRequest({ url })
    expect(res.body).toBe('undefined')
  })

  it('returns any status as is', async () => {
    const s = await server((_req, res) => {
      res.statusCode = 500
      res.end('agent broke')
    })
    const res = await httpRequest({ url: new URL(s.url) })
    expect(res).toMatchObject({ status: 500, body: 'agent broke' })
  })

  it('does not follow a redirect: the 3xx comes back and the server sees one request', async () => {
    const s = await server((req, res) => {
      if (req.url === '/elsewhere') {
        res.end('followed')
        return
      }
      res.writeHead(302, { location: '/elsewhere' })
      res.end()
    })
    const res = await httpRequest({ url: new URL(`${s.url}/start`) })
    expect(res.status).toBe(302)
    expect(res.headers.location).toBe('/elsewhere')
    expect(res.body).toBe('')
    expect(s.hits).toBe(1)
    const permanent = await server((_req, res) => {
      res.writeHead(308, { location: 'http://169.254.169.254/latest/meta-data/' })
      res.end()
    })
    expect((await httpRequest({ url: new URL(permanent.url) })).status).toBe(308)
    expect(permanent.hits).toBe(1)
  })

  describe('timeouts', () => {
    it('reports a server that never answers as ERR_HTTP_TIMEOUT (system clock)', async () => {
      const s = await server(() => {})
      const err = await credentialsErrorOf(httpRequest({ url: new URL(s.url) }, { timeoutMs: 50 }))
      expect(err).toMatchObject({ code: 'ERR_HTTP_TIMEOUT', retryable: true, tryNextLink: false })
      expect(err.message).toBe(`request to ${s.url}/ timed out after 50 ms`)
      expect(s.hits).toBe(1)
    })

    it('times out on the injected clock, and clears its timers', async () => {
      const clock = new ManualClock()
      const s = await server(() => {})
      const promise = httpRequest({ url: new URL(s.url) }, { clock, timeoutMs: 2500, connectTimeoutMs: 700 })
      await until(() => s.hits === 1)
      // Connected: the connect timer is cleared, the total one still runs.
      expect(clock.pending().map((t) => t.ms)).toEqual([2500])
      expect(clock.timers.map((t) => t.ms).sort((a, b) => a - b)).toEqual([700, 2500])
      clock.fire(2500)
      const err = await credentialsErrorOf(promise)
      expect(err.code).toBe('ERR_HTTP_TIMEOUT')
      expect(clock.pending()).toEqual([])
    })

    it('counts the body in the total timeout (a server that trickles)', async () => {
      const clock = new ManualClock()
      const s = await server((_req, res) => {
        res.writeHead(200, { 'content-length': '100' })
        res.write('{"AccessKeyId":')
      })
      const promise = httpRequest({ url: new URL(s.url) }, { clock, timeoutMs: 300 })
      await until(() => s.hits === 1)
      await new Promise((resolve) => setTimeout(resolve, 20))
      clock.fire(300)
      expect((await credentialsErrorOf(promise)).code).toBe('ERR_HTTP_TIMEOUT')
    })

    it('clears every timer after a success', async () => {
      const clock = new ManualClock()
      const s = await server((_req, res) => res.end('ok'))
      await httpRequest({ url: new URL(s.url) }, { clock })
      expect(clock.timers.length).toBeGreaterThan(0)
      expect(clock.pending()).toEqual([])
    })

    it('reports a TLS handshake that never completes as a connect timeout', async () => {
      // A TCP server that accepts and stays silent: the TCP connection is up, TLS never is.
      const raw = await rawServer(() => {})
      const err = await credentialsErrorOf(
        httpRequest(
          { url: new URL(`https://127.0.0.1:${raw.port}/`) },
          { connectTimeoutMs: 50, timeoutMs: 10_000 },
        ),
      )
      expect(err).toMatchObject({ code: 'ERR_HTTP_TIMEOUT', retryable: true })
      expect(err.message).toBe(`connecting to https://127.0.0.1:${raw.port}/ timed out after 50 ms`)
    })

    // Linux drops SYNs to a listener whose accept queue is full; other kernels may reset instead.
    it.runIf(process.platform === 'linux')(
      'reports a TCP connect that never completes as a connect timeout',
      async () => {
        // Loopback never drops SYNs by itself. A listener whose process is blocked (so it never
        // accepts) with a full accept queue does: Linux then drops new SYNs and connect() hangs.
        const blocked: ChildProcess = spawn(
          process.execPath,
          [
            '-e',
            `const s = require('node:net').createServer()
           s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
             require('node:fs').writeSync(1, s.address().port + '\\n')
             Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20000)
           })`,
          ],
          { stdio: ['ignore', 'pipe', 'ignore'] },
        )
        cleanups.push(() => blocked.kill('SIGKILL'))
        const port = await new Promise<number>((resolve) =>
          blocked.stdout?.once('data', (d: Buffer) => resolve(Number(String(d).trim()))),
        )
        // backlog 1 queues 2 connections; once both are up, the queue is full.
        let connected = 0
        const fillers = Array.from({ length: 3 }, () =>
          connect(port, '127.0.0.1')
            .on('connect', () => connected++)
            .on('error', () => {}),
        )
        cleanups.push(() => {
          for (const filler of fillers) filler.destroy()
        })
        await until(() => connected >= 2)
        const err = await credentialsErrorOf(
          httpRequest(
            { url: new URL(`http://127.0.0.1:${port}/`) },
            { connectTimeoutMs: 100, timeoutMs: 10_000 },
          ),
        )
        expect(err).toMatchObject({ code: 'ERR_HTTP_TIMEOUT', retryable: true })
        expect(err.message).toBe(`connecting to http://127.0.0.1:${port}/ timed out after 100 ms`)
      },
    )
  })

  describe('response size cap', () => {
    const options: HttpRequestOptions = { maxBodyBytes: 1024 }

    it('accepts a body of exactly the cap', async () => {
      const s = await server((_req, res) => res.end('x'.repeat(1024)))
      expect((await httpRequest({ url: new URL(s.url) }, options)).body).toHaveLength(1024)
    })

    it('rejects a declared Content-Length over the cap before reading it', async () => {
      const s = await server((_req, res) => {
        res.writeHead(200, { 'content-length': String(1025) })
        res.end('x'.repeat(1025))
      })
      const err = await credentialsErrorOf(httpRequest({ url: new URL(s.url) }, options))
      expect(err).toMatchObject({ code: 'ERR_RESPONSE_INVALID', status: 200, retryable: false })
      expect(err.message).toBe(`response from ${s.url}/ exceeds 1024 bytes`)
    })

    it('cuts a chunked body (no Content-Length) at the cap', async () => {
      const s = await server((_req, res) => {
        res.write('x'.repeat(1000))
        res.write('x'.repeat(1000))
        res.end('x'.repeat(100_000))
      })
      const err = await credentialsErrorOf(httpRequest({ url: new URL(s.url) }, options))
      expect(err.code).toBe('ERR_RESPONSE_INVALID')
      expect(err.message).toContain('exceeds 1024 bytes')
    })

    it('cuts an endless chunked body at the default cap', async () => {
      let timer: NodeJS.Timeout | undefined
      const s = await server((_req, res) => {
        const chunk = 'y'.repeat(16 * 1024)
        const pump = (): void => {
          if (res.destroyed) return
          res.write(chunk)
          timer = setTimeout(pump, 1)
        }
        pump()
      })
      cleanups.push(() => clearTimeout(timer))
      const err = await credentialsErrorOf(httpRequest({ url: new URL(s.url) }))
      expect(err.message).toContain(`exceeds ${DEFAULT_MAX_BODY_BYTES} bytes`)
    })

    it('cuts a close-delimited body without Content-Length at the cap', async () => {
      const raw = await rawServer(
        answerRaw(`HTTP/1.0 200 OK\r\nConnection: close\r\n\r\n${'z'.repeat(5000)}`),
      )
      const err = await credentialsErrorOf(
        httpRequest({ url: new URL(`http://127.0.0.1:${raw.port}/`) }, options),
      )
      expect(err.code).toBe('ERR_RESPONSE_INVALID')
      expect(err.message).toContain('exceeds 1024 bytes')
    })

    it('rejects a body shorter than its Content-Length (a lying server) as incomplete', async () => {
      const raw = await rawServer(
        answerRaw('HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{"AccessKeyId":"AS'),
      )
      const err = await credentialsErrorOf(
        httpRequest({ url: new URL(`http://127.0.0.1:${raw.port}/`) }, options),
      )
      expect(err).toMatchObject({ code: 'ERR_RESPONSE_INVALID', status: 200, retryable: true })
      expect(err.message).toContain('ended before its body was complete')
    })
  })

  it('rejects a body that is not UTF-8', async () => {
    const s = await server((_req, res) => res.end(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])))
    const err = await credentialsErrorOf(httpRequest({ url: new URL(s.url) }))
    expect(err).toMatchObject({ code: 'ERR_RESPONSE_INVALID', status: 200 })
    expect(err.message).toBe(`response from ${s.url}/ is not valid UTF-8`)
  })

  it('reports a refused connection as ERR_NETWORK', async () => {
    const s = await startServer(() => {})
    const url = new URL(s.url)
    await s.close()
    const err = await credentialsErrorOf(httpRequest({ url }))
    expect(err).toMatchObject({ code: 'ERR_NETWORK', retryable: true, tryNextLink: false })
    expect(err.message).toBe(`request to ${url.origin}/ failed: ECONNREFUSED`)
    expect((err.cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED')
  })

  it('reports a connection reset before the response as ERR_NETWORK', async () => {
    const raw = await rawServer((socket) => socket.once('data', () => socket.resetAndDestroy()))
    const err = await credentialsErrorOf(httpRequest({ url: new URL(`http://127.0.0.1:${raw.port}/`) }))
    expect(err).toMatchObject({ code: 'ERR_NETWORK', retryable: true })
  })

  it('rejects protocols other than http: and https:', async () => {
    const err = await credentialsErrorOf(httpRequest({ url: new URL('file:///etc/passwd') }))
    expect(err).toMatchObject({ code: 'ERR_INVALID_CONFIG' })
    expect(err.message).toContain('unsupported protocol file:')
  })

  describe('abort', () => {
    it('rejects with ERR_ABORTED and drops the connection when the signal aborts', async () => {
      let closed = false
      const s = await server((req) => {
        req.socket.on('close', () => {
          closed = true
        })
      })
      const controller = new AbortController()
      const clock = new ManualClock()
      const promise = httpRequest({ url: new URL(s.url) }, { signal: controller.signal, clock })
      await until(() => s.hits === 1)
      const reason = new Error('shutting down')
      controller.abort(reason)
      const err = await credentialsErrorOf(promise)
      expect(err).toMatchObject({ code: 'ERR_ABORTED', retryable: false, cause: reason })
      expect(clock.pending()).toEqual([])
      await until(() => closed)
    })

    it('sends nothing when the signal is already aborted', async () => {
      const s = await server((_req, res) => res.end())
      const err = await credentialsErrorOf(
        httpRequest({ url: new URL(s.url) }, { signal: AbortSignal.abort() }),
      )
      expect(err.code).toBe('ERR_ABORTED')
      expect(s.hits).toBe(0)
      expect(s.connections).toBe(0)
    })
  })

  it('reuses one keep-alive connection for sequential requests', async () => {
    const s = await server((_req, res) => res.end('ok'))
    await httpRequest({ url: new URL(`${s.url}/a`) })
    await httpRequest({ url: new URL(`${s.url}/b`) })
    await httpRequest({ url: new URL(`${s.url}/c`), method: 'POST', body: 'x' })
    expect(s.hits).toBe(3)
    expect(s.connections).toBe(1)
  })

  it('talks to [::1] when IPv6 loopback exists', async (ctx) => {
    let s: TestServer
    try {
      s = await server((_req, res) => res.end('v6'), '::1')
    } catch {
      ctx.skip('no IPv6 loopback on this machine')
      return
    }
    expect(s.url).toMatch(/^http:\/\/\[::1\]:\d+$/)
    expect((await httpRequest({ url: new URL(s.url) })).body).toBe('v6')
  })

  describe.runIf(hasOpenssl())('https', () => {
    let dir: string
    let tlsServer: HttpsServer

    async function startTls(): Promise<number> {
      dir = await mkdtemp(join(tmpdir(), 'podcreds-core-tls-'))
      const { cert, key } = makeSelfSignedCert(dir)
      tlsServer = createHttpsServer({ cert, key }, (_req, res) => res.end('secure'))
      const { port } = await listenLoopback(tlsServer)
      cleanups.push(async () => {
        await closeServer(tlsServer)
        await rm(dir, { recursive: true, force: true })
      })
      return port
    }

    it('verifies certificates: a self-signed one is refused with ERR_NETWORK', async () => {
      const port = await startTls()
      const err = await credentialsErrorOf(httpRequest({ url: new URL(`https://127.0.0.1:${port}/`) }))
      expect(err).toMatchObject({ code: 'ERR_NETWORK' })
      expect(err.message).toMatch(/SELF_SIGNED|self.signed/i)
    })
    // The trusted https path runs in a child process with NODE_EXTRA_CA_CERTS (exit.test.ts).
  })

  describe('secrets', () => {
    const secretUrl = (base: string): URL => {
      const url = new URL(`${base}/v1/credentials?token=${CANARY_TOKEN}`)
      url.username = 'user'
      url.password = CANARY_SECRET
      return url
    }
    const headers = { authorization: CANARY_TOKEN }

    it('describeUrl drops user info and query', () => {
      expect(describeUrl(secretUrl('http://127.0.0.1:1234'))).toBe('http://127.0.0.1:1234/v1/credentials')
    })

    it('no error form shows the token, the password or the query (timeout)', async () => {
      const s = await server(() => {})
      const err = await credentialsErrorOf(httpRequest({ url: secretUrl(s.url), headers }, { timeoutMs: 30 }))
      expect(err.code).toBe('ERR_HTTP_TIMEOUT')
      expectNoSecret(err)
    })

    it('no error form shows the token, the password or the query (refused, bad body, too large)', async () => {
      const gone = await startServer(() => {})
      await gone.close()
      expectNoSecret(await credentialsErrorOf(httpRequest({ url: secretUrl(gone.url), headers })))
      const echo = await server((_req, res) =>
        res.end(Buffer.concat([Buffer.from(CANARY_TOKEN), Buffer.from([0xff])])),
      )
      expectNoSecret(await credentialsErrorOf(httpRequest({ url: secretUrl(echo.url), headers })))
      const big = await server((_req, res) => res.end(CANARY_SECRET.repeat(100)))
      expectNoSecret(
        await credentialsErrorOf(httpRequest({ url: secretUrl(big.url), headers }, { maxBodyBytes: 100 })),
      )
      const controller = new AbortController()
      const hang = await server(() => controller.abort())
      expectNoSecret(
        await credentialsErrorOf(
          httpRequest({ url: secretUrl(hang.url), headers }, { signal: controller.signal }),
        ),
      )
    })
  })
})
