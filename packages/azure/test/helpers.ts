import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { HttpRequest, HttpResponse, HttpTransport } from '@podcreds/core'
import type { KubeletTokenDir } from '../../../test/support/kubeletTokenDir.js'
import { kubeletTokenDir } from '../../../test/support/kubeletTokenDir.js'
import { closeServer, listenLoopback, readBody } from '../../../test/support/loopback.js'

/** A JWT-shaped assertion carrying a canary, so a leak is easy to find. */
export function fakeAssertion(canary: string, claims: Record<string, unknown> = {}): string {
  const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  const payload = {
    iss: 'https://oidc.example/issuer',
    sub: 'system:serviceaccount:default:app',
    aud: ['api://AzureADTokenExchange'],
    exp: 4_102_444_800,
    ...claims,
  }
  return `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(payload)}.${canary}`
}

/** One request as the fake Entra endpoint saw it. */
export interface SeenRequest {
  method: string
  path: string
  headers: IncomingMessage['headers']
  form: URLSearchParams
}

export type EntraReply = { status: number; body: unknown; delayUntil?: Promise<void> }

/** A loopback Entra fake: answers each token request with `reply(request, n)` (n from 1). */
export async function startFakeEntra(
  reply: (request: SeenRequest, n: number) => EntraReply | Promise<EntraReply>,
): Promise<{ url: string; requests: SeenRequest[]; close(): Promise<void> }> {
  const requests: SeenRequest[] = []
  const server: Server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const seen: SeenRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      form: new URLSearchParams(await readBody(req)),
    }
    requests.push(seen)
    const answer = await reply(seen, requests.length)
    if (answer.delayUntil !== undefined) await answer.delayUntil
    const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body)
    res.writeHead(answer.status, { 'content-type': 'application/json' })
    res.end(text)
  })
  const { origin } = await listenLoopback(server)
  return { url: `${origin}/`, requests, close: () => closeServer(server) }
}

/** Entra's success answer. */
export function tokenReply(accessToken: string, expiresIn = 3599, refreshIn?: number): EntraReply {
  return {
    status: 200,
    body: {
      token_type: 'Bearer',
      expires_in: expiresIn,
      ext_expires_in: expiresIn,
      ...(refreshIn === undefined ? {} : { refresh_in: refreshIn }),
      access_token: accessToken,
    },
  }
}

/** An Entra error answer, shaped like the real one. */
export function entraError(status: number, error: string, code: number, text: string): EntraReply {
  return {
    status,
    body: {
      error,
      error_description: `AADSTS${code}: ${text} Trace ID: 0000 Correlation ID: 1111 Timestamp: 2026-01-01 00:00:00Z`,
      error_codes: [code],
      timestamp: '2026-01-01 00:00:00Z',
      trace_id: '0000',
      correlation_id: '1111',
    },
  }
}

/** A kubelet-style projected volume holding `azure-identity-token` (test/support/kubeletTokenDir.ts). */
export function tokenVolume(): Promise<KubeletTokenDir> {
  return kubeletTokenDir({ fileName: 'azure-identity-token', prefix: 'podcreds-azure-' })
}

/** An in-memory transport: answers without sockets or timers (for virtual-time tests). */
export function memoryTransport(reply: (request: HttpRequest, n: number) => EntraReply): {
  transport: HttpTransport
  requests: HttpRequest[]
} {
  const requests: HttpRequest[] = []
  const transport: HttpTransport = async (request): Promise<HttpResponse> => {
    requests.push(request)
    const answer = reply(request, requests.length)
    return {
      status: answer.status,
      headers: { 'content-type': 'application/json' },
      body: typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body),
    }
  }
  return { transport, requests }
}

export const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47'
export const CLIENT = '00000000-1111-2222-3333-444444444444'
export const SCOPE = 'https://vault.azure.net/.default'
