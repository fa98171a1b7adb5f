// Issue 11, "Bad input": hostile or broken Pod Identity agent answers against a real loopback
// server. Every one ends in a clear CredentialsError code, no crash, no hang, no secret.
import { fromContainer } from '@podcreds/container'
import { afterEach, describe, expect, it } from 'vitest'
import { rejectionOf } from '../support/errors.js'
import { printedForms } from '../support/secrets.js'
import type { RawServer, Recorder } from './helpers.js'
import {
  agentBody,
  CANARY_KEY_ID,
  CANARY_SECRET,
  CANARY_SESSION,
  CANARY_TOKEN,
  expectCode,
  expectNoLeak,
  startRawServer,
  startRecorder,
} from './helpers.js'

const MiB = 1024 * 1024
let servers: { close(): Promise<void> }[] = []

afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()))
  servers = []
})

async function agent(
  status: number,
  body: string | Buffer,
  headers: Record<string, string> = { 'content-type': 'application/json' },
): Promise<Recorder> {
  const server = await startRecorder((_req, res) => {
    res.writeHead(status, headers)
    res.end(body)
  })
  servers.push(server)
  return server
}

async function raw(onRequest: Parameters<typeof startRawServer>[0]): Promise<RawServer> {
  const server = await startRawServer(onRequest)
  servers.push(server)
  return server
}

const provider = (origin: string, extra: Parameters<typeof fromContainer>[0] = {}) =>
  fromContainer({
    fullUri: `${origin}/v1/credentials`,
    authorizationToken: CANARY_TOKEN,
    maxAttempts: 1,
    timeoutMs: 1500,
    connectTimeoutMs: 1000,
    env: {},
    ...extra,
  })

async function failsWith(origin: string, code: string, extra: Parameters<typeof fromContainer>[0] = {}) {
  const error = await rejectionOf(provider(origin, extra)())
  expectCode(error, code)
  return error as Error & { code: string; status?: number }
}

describe('agent answers that are not credentials → ERR_RESPONSE_INVALID', () => {
  it('an empty 200 body', async () => {
    const server = await agent(200, '')
    const error = await failsWith(server.origin, 'ERR_RESPONSE_INVALID')
    expect(error.message).toMatch(/not JSON/)
  })

  it.each([
    ['cut in a string', agentBody().slice(0, 40)],
    ['cut after a key', '{"AccessKeyId":'],
    ['only an opening brace', '{'],
    ['cut before the closing brace', agentBody().slice(0, -1)],
  ])('truncated JSON: %s', async (_name, body) => {
    const server = await agent(200, body)
    await failsWith(server.origin, 'ERR_RESPONSE_INVALID')
  })

  it('a 10 MiB body with Content-Length is refused at the 64 KiB cap', async () => {
    const body = Buffer.alloc(10 * MiB, 0x20)
    const server = await agent(200, body, {
      'content-type': 'application/json',
      'content-length': String(body.length),
    })
    const error = await failsWith(server.origin, 'ERR_RESPONSE_INVALID')
    expect(error.message).toMatch(/exceeds 65536 bytes/)
  })

  it('a 10 MiB chunked body (no Content-Length) is refused at the cap, not buffered', async () => {
    const server = await startRecorder((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      // JSON whitespace then a valid body: without a cap it would parse.
      const chunk = Buffer.alloc(64 * 1024, 0x20)
      let sent = 0
      const pump = (): void => {
        while (sent < 10 * MiB) {
          sent += chunk.length
          if (!res.write(chunk)) {
            res.once('drain', pump)
            return
          }
        }
        res.end(agentBody())
      }
      res.on('error', () => {})
      pump()
    })
    servers.push(server)
    const error = await failsWith(server.origin, 'ERR_RESPONSE_INVALID')
    expect(error.message).toMatch(/exceeds/)
  })

  it('invalid UTF-8 in the body', async () => {
    const valid = Buffer.from(agentBody({ AccountId: 'XX' }))
    const index = valid.indexOf('XX')
    valid[index] = 0xff
    valid[index + 1] = 0xfe
    const server = await agent(200, valid)
    const error = await failsWith(server.origin, 'ERR_RESPONSE_INVALID')
    expect(error.message).toMatch(/UTF-8/)
  })

  it.each([
    ['AccessKeyId', 12345],
    ['AccessKeyId', null],
    ['SecretAccessKey', { nested: CANARY_SECRET }],
    ['SecretAccessKey', [CANARY_SECRET]],
    ['Token', true],
    ['Token', ''],
    ['Expiration', 4_102_444_800],
    ['Expiration', { date: '2099-01-01T00:00:00Z' }],
  ])('wrong type: %s = %j names the field, never a value', async (field, value) => {
    const server = await agent(200, agentBody({ [field]: value }))
    const error = await failsWith(server.origin, 'ERR_RESPONSE_INVALID')
    expect(error.message).toContain(field)
  })

  it.each([
    ['a JSON array', `[${agentBody()}]`],
    ['a JSON string', JSON.stringify(agentBody())],
    ['null', 'null'],
    ['a number', '42'],
  ])('not an object: %s', async (_name, body) => {
    const server = await agent(200, body)
    await failsWith(server.origin, 'ERR_RESPONSE_INVALID')
  })

  it.each([
    ['in the past', '2001-01-01T00:00:00Z'],
    ['one second ago', new Date(Date.now() - 1000).toISOString()],
    ['unparseable', 'tomorrow'],
    ['a date without time', '2099-01-01'],
    ['Feb 30', '2099-02-30T00:00:00Z'],
    ['hour 24', '2099-01-01T24:00:00Z'],
    ['garbage offset', '2099-01-01T00:00:00+99:99'],
    ['holding a secret', CANARY_SECRET],
  ])('an Expiration %s', async (_name, expiration) => {
    const server = await agent(200, agentBody({ Expiration: expiration }))
    const error = await failsWith(server.origin, 'ERR_RESPONSE_INVALID')
    expect(error.message).toMatch(/Expiration/)
  })

  it('a Content-Length that promises more than is sent, then the connection closes', async () => {
    const server = await raw((socket) => {
      const body = agentBody()
      socket.end(
        `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length + 500}\r\n\r\n${body}`,
      )
    })
    const error = await failsWith(server.origin, 'ERR_RESPONSE_INVALID')
    expect(error.message).toMatch(/ended before its body was complete/)
  })

  it('a Content-Length that promises more than is sent, then stalls → ERR_HTTP_TIMEOUT', async () => {
    const server = await raw((socket) => {
      const body = agentBody()
      socket.write(
        `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length + 500}\r\n\r\n${body}`,
      )
    })
    await failsWith(server.origin, 'ERR_HTTP_TIMEOUT', { timeoutMs: 300 })
  })

  it('a Content-Length that promises less than is sent: the cut body is not JSON', async () => {
    const server = await raw((socket) => {
      const body = agentBody()
      socket.end(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 20\r\n\r\n${body}`)
    })
    // Node's parser reads the surplus as the next response and fails the socket
    // (HPE_INVALID_CONSTANT) before or after the cut body fails JSON.parse: either is a clear code.
    const error = await rejectionOf(provider(server.origin)())
    expect(['ERR_RESPONSE_INVALID', 'ERR_NETWORK']).toContain((error as { code: string }).code)
    expectNoLeak(...printedForms(error))
  })

  it('two different Content-Length headers are a network error, not a crash', async () => {
    const server = await raw((socket) => {
      const body = agentBody()
      socket.end(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\ncontent-length: 3\r\n\r\n${body}`)
    })
    const error = await rejectionOf(provider(server.origin)())
    expect(['ERR_NETWORK', 'ERR_RESPONSE_INVALID']).toContain((error as { code: string }).code)
    expectNoLeak(...printedForms(error))
  })

  it('slowloris: headers, then silence → ERR_HTTP_TIMEOUT', async () => {
    const server = await raw((socket) => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n')
    })
    await failsWith(server.origin, 'ERR_HTTP_TIMEOUT', { timeoutMs: 300 })
  })

  it('slowloris: half a status line, then silence → ERR_HTTP_TIMEOUT', async () => {
    const server = await raw((socket) => {
      socket.write('HTTP/1.1 20')
    })
    await failsWith(server.origin, 'ERR_HTTP_TIMEOUT', { timeoutMs: 300 })
  })

  it('slowloris: a body dribbled one byte at a time is cut by the total timeout', async () => {
    let timer: NodeJS.Timeout | undefined
    const server = await raw((socket) => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n')
      timer = setInterval(() => {
        if (!socket.destroyed) socket.write('1\r\n \r\n')
      }, 20)
      socket.on('close', () => clearInterval(timer))
    })
    try {
      await failsWith(server.origin, 'ERR_HTTP_TIMEOUT', { timeoutMs: 300 })
    } finally {
      clearInterval(timer)
    }
  })

  it('a reset in the middle of the body', async () => {
    const server = await raw((socket) => {
      socket.write(`HTTP/1.1 200 OK\r\ncontent-length: 500\r\n\r\n${agentBody().slice(0, 60)}`)
      setTimeout(() => socket.resetAndDestroy(), 10)
    })
    const error = await rejectionOf(provider(server.origin)())
    expect(['ERR_RESPONSE_INVALID', 'ERR_NETWORK']).toContain((error as { code: string }).code)
    expectNoLeak(...printedForms(error))
  })

  it('garbage instead of HTTP → ERR_NETWORK', async () => {
    const server = await raw((socket) => socket.end(`${CANARY_SECRET}\r\n\r\n`))
    await failsWith(server.origin, 'ERR_NETWORK')
  })

  it('an error answer that echoes the token and the secrets is scrubbed', async () => {
    const server = await agent(400, `invalid token ${CANARY_TOKEN}\nX-Injected: yes`, {
      'content-type': 'text/plain',
    })
    const error = await failsWith(server.origin, 'ERR_HTTP_STATUS')
    expect(error.status).toBe(400)
    expect(error.message).toContain('[redacted]')
    expect(error.message).not.toMatch(/\n/)
  })

  it('a redirect is not followed', async () => {
    const target = await agent(200, agentBody())
    const server = await agent(302, '', { location: `${target.origin}/v1/credentials` })
    const error = await failsWith(server.origin, 'ERR_HTTP_STATUS')
    expect(error.message).toMatch(/redirect/)
    expect(target.hits).toHaveLength(0)
  })
})

describe('agent answers that are odd but valid are accepted', () => {
  it('extra fields are ignored', async () => {
    const server = await agent(
      200,
      agentBody({
        Code: 'Success',
        LastUpdated: '2026-01-01T00:00:00Z',
        Type: 'AWS-HMAC',
        Nested: { a: [1, 2] },
      }),
    )
    const credentials = await provider(server.origin)()
    expect(credentials.accessKeyId).toBe(CANARY_KEY_ID)
    expect(credentials.secretAccessKey).toBe(CANARY_SECRET)
    expect(Object.keys(credentials).sort()).toEqual(
      ['accessKeyId', 'accountId', 'expiration', 'secretAccessKey', 'sessionToken'].sort(),
    )
  })

  it('duplicate keys resolve as JSON.parse does: the last one wins', async () => {
    const body = `{"AccessKeyId":"ASIAFIRSTFIRSTFIRST1","SecretAccessKey":"first","Token":"first","Expiration":"2001-01-01T00:00:00Z",${agentBody().slice(1)}`
    const server = await agent(200, body)
    const credentials = await provider(server.origin)()
    expect(credentials.accessKeyId).toBe(CANARY_KEY_ID)
    expect(credentials.sessionToken).toBe(CANARY_SESSION)
    expect(credentials.expiration?.toISOString()).toBe('2099-01-01T00:00:00.000Z')
  })

  it('an Expiration more than 7 days ahead is accepted as is', async () => {
    const far = new Date(Date.now() + 30 * 86_400_000)
    const server = await agent(200, agentBody({ Expiration: far.toISOString() }))
    const credentials = await provider(server.origin)()
    expect(credentials.expiration?.getTime()).toBe(far.getTime())
  })

  it('an Expiration with an offset or without one (read as UTC)', async () => {
    const server = await agent(200, agentBody({ Expiration: '2099-01-01T02:00:00+02:00' }))
    expect((await provider(server.origin)()).expiration?.toISOString()).toBe('2099-01-01T00:00:00.000Z')
    server.handle((_req, res) => {
      res.end(agentBody({ Expiration: '2099-01-01T00:00:00' }))
    })
    expect((await provider(server.origin)()).expiration?.toISOString()).toBe('2099-01-01T00:00:00.000Z')
  })

  it('a BOM-less body with surrounding whitespace and a charset parameter', async () => {
    const server = await agent(200, `\n  ${agentBody()}  \n`, {
      'content-type': 'application/json; charset=utf-8',
    })
    const credentials = await provider(server.origin)()
    expectNoLeak(credentials, JSON.stringify(credentials), String(credentials))
    expect(credentials.sessionToken).toBe(CANARY_SESSION)
  })
})
