import { randomUUID } from 'node:crypto'
import type { Clock } from '@podcreds/core'
import type { CryptoKey, JWK, JWTPayload } from 'jose'
import type { MintTokenOptions } from '../Emulator.js'
import type { Deps } from './deps.js'
import { hex, podSuffix } from './ids.js'

/** Why a token was refused. */
export type TokenProblem = 'malformed' | 'issuer' | 'signature' | 'expired' | 'not-yet-valid'

export type VerifyResult =
  | { ok: true; claims: TokenClaims }
  | { ok: false; problem: TokenProblem; message: string; claims?: TokenClaims }

/** The claims of a projected token that the emulator reads. */
export interface TokenClaims extends JWTPayload {
  'kubernetes.io'?: {
    namespace?: string
    serviceaccount?: { name?: string; uid?: string }
    pod?: { name?: string; uid?: string }
    node?: { name?: string; uid?: string }
  }
}

export interface IssuerDefaults {
  namespace: string
  serviceAccount: string
  tokenLifetimeMs: number
}

/** The cluster's service-account issuer: one RS256 key, its JWKS, minting and verification. */
export interface Issuer {
  readonly kid: string
  jwks(): { keys: JWK[] }
  mint(options?: MintTokenOptions): Promise<string>
  verify(token: string): Promise<VerifyResult>
}

export async function createIssuer(
  deps: Deps,
  issuerUrl: string,
  clock: Clock,
  defaults: IssuerDefaults,
): Promise<Issuer> {
  const { jose } = deps
  const { privateKey, publicKey } = await jose.generateKeyPair('RS256', { extractable: true })
  const publicJwk = await jose.exportJWK(publicKey)
  const kid = await jose.calculateJwkThumbprint(publicJwk)
  const jwk: JWK = { ...publicJwk, kid, alg: 'RS256', use: 'sig' }
  let foreign: Promise<CryptoKey> | undefined
  // One pod, one node; each service account keeps its uid for the emulator's life, as in a cluster.
  const pod = { name: `${defaults.serviceAccount}-${podSuffix(9)}-${podSuffix(5)}`, uid: randomUUID() }
  const node = {
    name: `ip-192-168-${Number.parseInt(hex(1), 16)}-${Number.parseInt(hex(1), 16)}.ec2.internal`,
    uid: randomUUID(),
  }
  const accountUids = new Map<string, string>()
  const uidOf = (namespace: string, name: string): string => {
    const key = `${namespace}/${name}`
    let uid = accountUids.get(key)
    if (uid === undefined) {
      uid = randomUUID()
      accountUids.set(key, uid)
    }
    return uid
  }

  return {
    kid,
    jwks: () => ({ keys: [jwk] }),
    async mint(options: MintTokenOptions = {}): Promise<string> {
      const namespace = options.namespace ?? defaults.namespace
      const serviceAccount = options.serviceAccount ?? defaults.serviceAccount
      const iat = Math.floor((options.issuedAt ?? clock.now()) / 1000)
      const lifetimeMs = options.lifetimeMs ?? defaults.tokenLifetimeMs
      const audience = options.audience ?? 'sts.amazonaws.com'
      const payload: TokenClaims = {
        aud: typeof audience === 'string' ? [audience] : [...audience],
        exp: iat + Math.floor(lifetimeMs / 1000),
        iat,
        iss: options.issuer ?? issuerUrl,
        jti: randomUUID(),
        'kubernetes.io': {
          namespace,
          node: { ...node },
          pod: { ...pod },
          serviceaccount: { name: serviceAccount, uid: uidOf(namespace, serviceAccount) },
        },
        nbf: iat,
        sub: options.subject ?? `system:serviceaccount:${namespace}:${serviceAccount}`,
        ...options.claims,
      }
      let key: CryptoKey = privateKey
      if (options.foreignKey === true) {
        foreign ??= jose.generateKeyPair('RS256').then((pair) => pair.privateKey)
        key = await foreign
      }
      return new jose.SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' }).sign(key)
    },
    async verify(token: string): Promise<VerifyResult> {
      let unverified: TokenClaims
      try {
        unverified = jose.decodeJwt(token) as TokenClaims
      } catch {
        return { ok: false, problem: 'malformed', message: 'the token is not a JWT' }
      }
      // IAM looks the provider up by the unverified iss before it fetches any key.
      if (unverified.iss !== issuerUrl) {
        return {
          ok: false,
          problem: 'issuer',
          message: `no OpenID Connect provider for issuer ${String(unverified.iss)}`,
          claims: unverified,
        }
      }
      try {
        const { payload } = await jose.jwtVerify(token, publicKey, {
          algorithms: ['RS256'],
          issuer: issuerUrl,
          currentDate: new Date(clock.now()),
        })
        return { ok: true, claims: payload as TokenClaims }
      } catch (error) {
        const code = (error as { code?: string }).code
        if (code === 'ERR_JWT_EXPIRED') {
          return {
            ok: false,
            problem: 'expired',
            message: expiredMessage(unverified, clock),
            claims: unverified,
          }
        }
        if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && (error as { claim?: string }).claim === 'nbf') {
          return {
            ok: false,
            problem: 'not-yet-valid',
            message: 'the token is not yet valid (nbf)',
            claims: unverified,
          }
        }
        if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' || code === 'ERR_JWS_INVALID') {
          return {
            ok: false,
            problem: 'signature',
            message: 'the token signature does not verify',
            claims: unverified,
          }
        }
        return {
          ok: false,
          problem: 'malformed',
          message: 'the token is not a valid projected token',
          claims: unverified,
        }
      }
    },
  }
}

function expiredMessage(claims: TokenClaims, clock: Clock): string {
  const exp = typeof claims.exp === 'number' ? new Date(claims.exp * 1000).toISOString() : 'unknown'
  return `Token expired: current date/time ${new Date(clock.now()).toISOString()} must be before the expiration date/time ${exp}`
}

/** The token's audiences as a list. */
export function audiences(claims: TokenClaims): string[] {
  if (typeof claims.aud === 'string') return [claims.aud]
  return Array.isArray(claims.aud) ? claims.aud.filter((a): a is string => typeof a === 'string') : []
}

/** Namespace and service account from the `kubernetes.io` claims, else from `sub`. */
export function serviceAccountOf(claims: TokenClaims): { namespace: string; name: string } | undefined {
  const k8s = claims['kubernetes.io']
  if (typeof k8s?.namespace === 'string' && typeof k8s.serviceaccount?.name === 'string') {
    return { namespace: k8s.namespace, name: k8s.serviceaccount.name }
  }
  const match = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(claims.sub ?? '')
  return match ? { namespace: match[1]!, name: match[2]! } : undefined
}
