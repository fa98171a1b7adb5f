import { request as httpRequest } from 'node:http'
import type { Clock } from '@podcreds/core'
import { Hash } from '@smithy/hash-node'
import { HttpRequest } from '@smithy/protocol-http'
import { SignatureV4 } from '@smithy/signature-v4'

export interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/** One request on a fresh connection (no keep-alive pool that could outlive the test). */
export function send(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: options.method ?? 'GET', headers: options.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        )
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(options.body)
  })
}

/** GET the agent with a raw token in Authorization, as the SDKs do. */
export function getCredentials(agentUrl: string, token: string | undefined): Promise<Reply> {
  return send(`${agentUrl}/v1/credentials`, token === undefined ? {} : { headers: { authorization: token } })
}

/** POST an unsigned STS query-protocol form. */
export function stsForm(url: string, params: Record<string, string>): Promise<Reply> {
  return send(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body: new URLSearchParams({ Version: '2011-06-15', ...params }).toString(),
  })
}

export function assumeRole(
  stsUrl: string,
  roleArn: string,
  token: string,
  extra: Record<string, string> = {},
): Promise<Reply> {
  return stsForm(stsUrl, {
    Action: 'AssumeRoleWithWebIdentity',
    RoleArn: roleArn,
    RoleSessionName: 'test-session',
    WebIdentityToken: token,
    ...extra,
  })
}

/** The text of the first `<name>` element (tests only; the emulator builds XML with fast-xml-parser). */
export function xmlField(xml: string, name: string): string | undefined {
  return new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1]
}

export interface Keys {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
}

/** A SigV4-signed request by the smithy signer, the one the AWS SDK for JavaScript uses. */
export async function signedSend(
  url: string,
  keys: Keys,
  options: {
    service: 'sts' | 's3'
    method?: string
    path?: string
    body?: string
    signingDate?: Date
    region?: string
    tamper?: (headers: Record<string, string>) => void
  },
): Promise<Reply> {
  const target = new URL(url)
  const headers: Record<string, string> = { host: target.host }
  if (options.body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded; charset=utf-8'
  const request = new HttpRequest({
    method: options.method ?? 'POST',
    protocol: 'http:',
    hostname: target.hostname,
    port: Number(target.port),
    path: options.path ?? '/',
    headers,
    ...(options.body === undefined ? {} : { body: options.body }),
  })
  const signer = new SignatureV4({
    credentials: keys,
    region: options.region ?? 'us-east-1',
    service: options.service,
    sha256: Hash.bind(null, 'sha256'),
    uriEscapePath: options.service !== 's3',
    applyChecksum: options.service === 's3',
  })
  const signed = await signer.sign(request, options.signingDate ? { signingDate: options.signingDate } : {})
  const outHeaders = { ...(signed.headers as Record<string, string>) }
  options.tamper?.(outHeaders)
  delete outHeaders.host
  return send(`${url}${options.path ?? '/'}`, {
    method: options.method ?? 'POST',
    headers: outHeaders,
    ...(options.body === undefined ? {} : { body: options.body }),
  })
}

export function getCallerIdentity(
  url: string,
  keys: Keys,
  extra: Parameters<typeof signedSend>[2] = { service: 'sts' },
): Promise<Reply> {
  return signedSend(url, keys, {
    body: 'Action=GetCallerIdentity&Version=2011-06-15',
    ...extra,
    service: 'sts',
  })
}

/** Parses the agent's JSON answer. */
export function agentKeys(reply: Reply): Keys & { expiration: string; accountId: string } {
  const json = JSON.parse(reply.body) as Record<string, string>
  return {
    accessKeyId: json.AccessKeyId!,
    secretAccessKey: json.SecretAccessKey!,
    sessionToken: json.Token!,
    expiration: json.Expiration!,
    accountId: json.AccountId!,
  }
}

export function stsKeys(reply: Reply): Keys & { expiration: string } {
  return {
    accessKeyId: xmlField(reply.body, 'AccessKeyId')!,
    secretAccessKey: xmlField(reply.body, 'SecretAccessKey')!,
    sessionToken: xmlField(reply.body, 'SessionToken')!,
    expiration: xmlField(reply.body, 'Expiration')!,
  }
}

export interface FakeClock extends Clock {
  advance(ms: number): void
  pending(): number
}

/**
 * A manual clock: time moves only on `advance`, which fires the timers that came due. Kept apart from
 * test/support/fakeClock.ts on purpose: this `advance()` is synchronous and settles nothing, since
 * what an emulator timer starts (a rotation writing files, a delayed answer on a socket) is real I/O
 * that a promise flush would not finish; the tests poll for the outcome with `until` instead. It also
 * moves `now()` to the end before firing, where the shared clock reports each timer's due time.
 */
export function fakeClock(start = Date.now()): FakeClock {
  let now = start
  const timers = new Set<{ at: number; fn: () => void }>()
  return {
    now: () => now,
    setTimeout(fn, ms) {
      const timer = { at: now + ms, fn }
      timers.add(timer)
      return timer
    },
    clearTimeout(handle) {
      timers.delete(handle as { at: number; fn: () => void })
    },
    advance(ms) {
      now += ms
      for (const timer of [...timers].sort((a, b) => a.at - b.at)) {
        if (timer.at <= now) {
          timers.delete(timer)
          timer.fn()
        }
      }
    },
    pending: () => timers.size,
  }
}

/** Waits (polling on real time, bounded) until `condition` holds. */
export async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i += 1) {
    if (await condition()) return
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  throw new Error(`timed out waiting for ${what}`)
}
