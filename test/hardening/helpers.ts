// Shared seams of the hardening suite (issue 11): loopback servers that record every hit and
// every connection, raw-socket servers for broken HTTP, a virtual clock, canary secrets and the
// leak check. Nothing here patches a global or mocks a module.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http'
import { createServer } from 'node:http'
import type { Socket } from 'node:net'
import { createServer as createNetServer } from 'node:net'
import { inspect } from 'node:util'
import { expect } from 'vitest'
import { FakeClock } from '../support/fakeClock.js'
import { closeServer, listenLoopback } from '../support/loopback.js'
import { printedForms } from '../support/secrets.js'

// ---- canaries ----------------------------------------------------------------------------------

/** A secret access key that must never be printed. */
export const CANARY_SECRET = 'SECRETCANARYsecretAccessKey0123456789ABCDEFabcdef'
/** A session token that must never be printed. */
export const CANARY_SESSION = 'SESSIONCANARYsessionToken0123456789ABCDEFabcdefFwoGZXIvYXdz'
/** The signature part of the canary service-account token: the secret part of a JWT. */
export const CANARY_TOKEN_SIGNATURE = 'SATOKENCANARYsignature_0123456789-ABCDEFabcdef'
/** A password in a URL that must never be echoed. */
export const CANARY_PASSWORD = 'PASSWORDCANARY0123456789'
/** An Entra (Azure) access token that must never be printed. */
export const CANARY_ACCESS_TOKEN = 'ACCESSTOKENCANARYeyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9'
/** An access key id: printable only shortened (`ASIA…0001`). */
export const CANARY_KEY_ID = 'ASIACANARYKEYID00001'

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')

/** A JWT-shaped service-account token with Kubernetes claims and the canary as its signature. */
export function canaryToken(
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
): string {
  const now = Math.floor(Date.now() / 1000)
  return [
    b64({ alg: 'RS256', kid: 'hardening', ...header }),
    b64({
      iss: 'https://oidc.eks.eu-west-1.amazonaws.com/id/HARDENING',
      sub: 'system:serviceaccount:payments:api',
      aud: ['sts.amazonaws.com'],
      iat: now,
      exp: now + 86_400,
      ...claims,
    }),
    CANARY_TOKEN_SIGNATURE,
  ].join('.')
}

/** The canary token as it is used by default. */
export const CANARY_TOKEN: string = canaryToken()

/** Every string that must never appear in output. */
export const CANARIES: readonly string[] = [
  CANARY_SECRET,
  CANARY_SESSION,
  CANARY_TOKEN_SIGNATURE,
  CANARY_PASSWORD,
  CANARY_KEY_ID,
  CANARY_ACCESS_TOKEN,
]

/** Whether `text` contains any canary (the key id counts only whole). */
export function leaks(text: string): string[] {
  return CANARIES.filter((canary) => text.includes(canary))
}

/** Fails when any canary appears in any of the texts. */
export function expectNoLeak(...texts: unknown[]): void {
  for (const text of texts) {
    const s = typeof text === 'string' ? text : inspect(text, { depth: 10, showHidden: true })
    expect(leaks(s), `canary leaked in: ${s.slice(0, 400)}`).toEqual([])
  }
}

/** Fails when any canary appears in any printable form of `error`. */
export function expectErrorClean(error: unknown): void {
  expectNoLeak(...printedForms(error))
}

/** Asserts a CredentialsError-shaped error with `code`, clean of canaries. */
export function expectCode(error: unknown, code: string): void {
  expect(error).toBeInstanceOf(Error)
  expect((error as { code?: unknown }).code, String((error as Error).message)).toBe(code)
  expect((error as Error).name).toBe('CredentialsError')
  expectErrorClean(error)
}

// ---- credentials bodies ------------------------------------------------------------------------

export const FAR_FUTURE = '2099-01-01T00:00:00Z'

/** The agent's JSON body, with canary secrets. */
export function agentBody(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    AccessKeyId: CANARY_KEY_ID,
    SecretAccessKey: CANARY_SECRET,
    Token: CANARY_SESSION,
    Expiration: FAR_FUTURE,
    AccountId: '123456789012',
    ...overrides,
  })
}

/** An STS AssumeRoleWithWebIdentity answer, with canary secrets; `credentials` replaces the inner XML. */
export function stsBody(
  options: { expiration?: string; credentials?: string; extra?: string; accessKeyId?: string } = {},
): string {
  const credentials =
    options.credentials ??
    `<AccessKeyId>${options.accessKeyId ?? CANARY_KEY_ID}</AccessKeyId>
      <SecretAccessKey>${CANARY_SECRET}</SecretAccessKey>
      <SessionToken>${CANARY_SESSION}</SessionToken>
      <Expiration>${options.expiration ?? FAR_FUTURE}</Expiration>`
  return `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>system:serviceaccount:payments:api</SubjectFromWebIdentityToken>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/hardening/session</Arn>
      <AssumedRoleId>AROAHARDENING:session</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      ${credentials}
    </Credentials>${options.extra ?? ''}
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>`
}

/** An STS AssumeRole answer (issue 19), with canary secrets: {@link stsBody} under AssumeRole's names. */
export function assumeRoleBody(options: Parameters<typeof stsBody>[0] = {}): string {
  return stsBody(options)
    .replaceAll('AssumeRoleWithWebIdentity', 'AssumeRole')
    .replace(/<SubjectFromWebIdentityToken>[^<]*<\/SubjectFromWebIdentityToken>\s*/, '')
}

/** An STS error document. */
export function stsError(code: string, message: string): string {
  return `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>x</RequestId></ErrorResponse>`
}

// ---- loopback servers ---------------------------------------------------------------------------

/** One request a recording server received. */
export interface Hit {
  method: string
  url: string
  headers: IncomingHttpHeaders
  body: string
  localAddress: string
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void | Promise<void>

/** A loopback HTTP server that records every request and every TCP connection. */
export interface Recorder {
  /** `http://127.0.0.1:<port>` (or `http://[::1]:<port>`). */
  origin: string
  port: number
  hits: Hit[]
  /** TCP connections accepted so far. */
  connections(): number
  /** TCP connections still open. */
  openSockets(): number
  handle(handler: Handler): void
  close(): Promise<void>
}

export async function startRecorder(
  handler: Handler = (_req, res) => {
    res.writeHead(404).end()
  },
  host = '127.0.0.1',
): Promise<Recorder> {
  let current = handler
  const hits: Hit[] = []
  const sockets = new Set<Socket>()
  let connections = 0
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      hits.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
        localAddress: req.socket.localAddress ?? '',
      })
      Promise.resolve(current(req, res, body)).catch(() => res.destroy())
    })
  })
  server.on('connection', (socket: Socket) => {
    connections++
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  const { port, origin } = await listenLoopback(server, host)
  return {
    origin,
    port,
    hits,
    connections: () => connections,
    openSockets: () => sockets.size,
    handle(next) {
      current = next
    },
    close: () => closeServer(server, sockets),
  }
}

/** A loopback TCP server that answers each connection with raw bytes (broken HTTP on purpose). */
export interface RawServer {
  origin: string
  connections(): number
  openSockets(): number
  close(): Promise<void>
}

export async function startRawServer(onRequest: (socket: Socket, head: string) => void): Promise<RawServer> {
  const sockets = new Set<Socket>()
  let connections = 0
  const server = createNetServer((socket) => {
    connections++
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    let head = ''
    let answered = false
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1')
      if (!answered && head.includes('\r\n\r\n')) {
        answered = true
        onRequest(socket, head)
      }
    })
  })
  const { origin } = await listenLoopback(server)
  return {
    origin,
    connections: () => connections,
    openSockets: () => sockets.size,
    close: () => closeServer(server, sockets),
  }
}

/** Whether `::1` can be listened on here. */
export async function hasIpv6Loopback(): Promise<boolean> {
  const server = createNetServer()
  try {
    await listenLoopback(server, '::1')
    return true
  } catch {
    return false
  } finally {
    await closeServer(server)
  }
}

// ---- virtual time --------------------------------------------------------------------------------

/**
 * The shared virtual clock (test/support/fakeClock.ts) as this suite uses it: timers on a monotonic
 * counter, `jump(ms)` steps only the wall clock (an NTP step, or a process suspended: its timers
 * then fire late on the wall clock), and `advance()` drains promise chains thoroughly around each
 * timer, since these sources chain many promises per answer.
 */
export class VirtualClock extends FakeClock {
  constructor(start = Date.UTC(2026, 0, 1)) {
    super(start, { settle: 'drain' })
  }
}

/** A logger that records every call. */
export function recordingLogger(): {
  logger: Record<
    'debug' | 'info' | 'warn' | 'error',
    (message: string, fields?: Record<string, unknown>) => void
  >
  lines: string[]
} {
  const lines: string[] = []
  const record =
    (level: string) =>
    (message: string, fields?: Record<string, unknown>): void => {
      lines.push(`${level} ${message} ${inspect(fields, { depth: 10 })}`)
    }
  return {
    logger: { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') },
    lines,
  }
}
