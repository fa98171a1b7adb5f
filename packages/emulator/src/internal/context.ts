import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Clock, Random } from '@podcreds/core'
import type { EmulatorAssociation } from '../EmulatorOptions.js'
import type { TrustPolicy } from '../TrustPolicy.js'
import type { CredentialStore } from './credentialStore.js'
import type { Deps } from './deps.js'
import type { FaultState, Target } from './faultState.js'
import type { Issuer } from './issuer.js'
import type { XmlWriter } from './xml.js'

/** Everything the endpoint handlers share. */
export interface Context {
  deps: Deps
  xml: XmlWriter
  clock: Clock
  random: Random
  store: CredentialStore
  issuer: Issuer
  faults: FaultState
  issuerUrl: string
  issuerHostPath: string
  region: string
  credentialLifetimeMs: number
  roles: ReadonlyMap<string, TrustPolicy>
  associations: readonly EmulatorAssociation[]
  clientIds: readonly string[]
  buckets: readonly string[]
  startedAt: number
  counters: Record<Target, number>
}

/** A request with its body read. */
export interface Exchange {
  req: IncomingMessage
  res: ServerResponse
  url: URL
  body: Buffer
}

export function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': String(Buffer.byteLength(body)),
    ...headers,
  })
  res.end(body)
}

/** `arn:aws:iam::<account>:oidc-provider/<issuer host and path>`. */
export function oidcProviderArn(accountId: string, issuerHostPath: string): string {
  return `arn:aws:iam::${accountId}:oidc-provider/${issuerHostPath}`
}

export function accountOf(roleArn: string): string | undefined {
  return /^arn:aws[\w-]*:iam::(\d{12}):role\//.exec(roleArn)?.[1]
}
