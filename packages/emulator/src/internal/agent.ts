import { randomUUID } from 'node:crypto'
import type { Context, Exchange } from './context.js'
import { send } from './context.js'
import type { IssuedCredentials } from './credentialStore.js'
import { evaluateTrustPolicy } from './evaluateTrustPolicy.js'
import { rfc3339Nano } from './ids.js'
import { audiences, serviceAccountOf } from './issuer.js'
import type { RateLimiter } from './rateLimiter.js'

export const POD_IDENTITY_AUDIENCE = 'pods.eks.amazonaws.com'
const CLUSTER = 'podcreds'

/** One cached answer of the agent. */
export interface AgentCacheEntry {
  credentials: IssuedCredentials
  /** When the agent renews the set (epoch ms): `min(lifetime, 3 h)` after it was fetched. */
  renewAt: number
  /** The sub-millisecond digits of its `Expiration` (RFC3339Nano), fixed per set. */
  nanos: number
}

/** The agent's state: its per-token cache and its request limiter. */
export interface AgentState {
  /** Per service-account token, as the real agent keys its cache. */
  byToken: Map<string, AgentCacheEntry>
  /** Per association, for the `sameCredentials` fault (half-life renewal). */
  byAssociation: Map<string, AgentCacheEntry>
  /** Whether the per-token cache is on (`agent: { cache }` of startEmulator). */
  cache: boolean
  /** Lifetime of the sets the agent issues, in ms. */
  lifetimeMs: number
  limiter: RateLimiter
}

// aws/eks-pod-identity-agent cmd/server.go: `--max-credential-retention-before-renewal` 3 h,
// `--max-cache-size` 2000; internal/credsretriever/refreshing_cache.go: `defaultMinCredentialTtl`
// 15 s (a cached set with that little left is dropped, never served).
export const AGENT_RENEWAL_MS: number = 3 * 3_600_000
export const AGENT_MIN_CREDENTIAL_TTL_MS: number = 15_000
const AGENT_MAX_CACHE_SIZE = 2000

/**
 * The EKS Pod Identity agent (`GET /v1/credentials`). It takes the projected token raw in
 * `Authorization`, validates it as EKS Auth's `AssumeRoleForPodIdentity` does (signature,
 * issuer, audience `pods.eks.amazonaws.com`, expiry), finds the association of the token's
 * namespace and service account and answers the agent's JSON, or an agent-style text/plain error:
 * 400 invalid or expired token, 403 the role does not trust Pod Identity, 404 no association.
 */
export async function handleAgent(context: Context, exchange: Exchange, state: AgentState): Promise<void> {
  const { req, res, url } = exchange
  const text = (status: number, message: string): void =>
    send(res, status, 'text/plain; charset=utf-8', message)
  if (url.pathname !== '/v1/credentials') return text(404, 'Not Found')
  // The limiter wraps the credentials handler only (pkg/server/server.go), before any validation;
  // Go's http.Error answers text/plain with a trailing newline.
  if (!state.limiter.allow()) {
    return send(res, 429, 'text/plain; charset=utf-8', 'Too Many Requests\n', {
      'x-content-type-options': 'nosniff',
    })
  }
  if (req.method !== 'GET') return text(405, 'Method Not Allowed')
  const token = req.headers.authorization?.trim() ?? ''
  if (token === '') return text(400, 'Service account token cannot be empty')
  const verified = await context.issuer.verify(token)
  if (!verified.ok) {
    if (verified.problem === 'expired') return text(400, `ExpiredTokenException: ${verified.message}`)
    return text(400, `InvalidTokenException: ${verified.message}`)
  }
  const claims = verified.claims
  if (!audiences(claims).includes(POD_IDENTITY_AUDIENCE)) {
    return text(
      400,
      `InvalidTokenException: the token audience is ${JSON.stringify(audiences(claims))}, not ${POD_IDENTITY_AUDIENCE}`,
    )
  }
  const account = serviceAccountOf(claims)
  const association =
    account &&
    context.associations.find((a) => a.namespace === account.namespace && a.serviceAccount === account.name)
  if (account === undefined || association === undefined) {
    const who = account ? `${account.namespace}/${account.name}` : 'this token'
    return text(404, `ResourceNotFoundException: no EKS Pod Identity association for service account ${who}`)
  }
  const policy = context.roles.get(association.roleArn)
  const trusted =
    policy !== undefined &&
    evaluateTrustPolicy(policy, {
      actions: ['sts:AssumeRole', 'sts:TagSession'],
      principal: { kind: 'Service', value: POD_IDENTITY_AUDIENCE },
      context: {},
    })
  if (!trusted) {
    return text(
      403,
      `AccessDeniedException: the trust policy of ${association.roleArn} does not allow ${POD_IDENTITY_AUDIENCE} to call sts:AssumeRole and sts:TagSession`,
    )
  }
  const spec = context.faults.get('agent')
  const now = context.clock.now()
  const issue = (): AgentCacheEntry => {
    const pod = claims['kubernetes.io']?.pod?.name ?? 'pod'
    const session = `eks-${CLUSTER}-${pod}-${randomUUID()}`.slice(0, 64)
    const credentials = context.store.issue(association.roleArn, session, state.lifetimeMs, now)
    return {
      credentials,
      renewAt: now + Math.min(state.lifetimeMs, AGENT_RENEWAL_MS),
      nanos: Math.floor(context.random() * 1_000_000),
    }
  }
  let entry: AgentCacheEntry
  if (spec.sameCredentials === true) {
    // The fault: one set per association, renewed once half of its lifetime is gone.
    const key = `${association.namespace}/${association.serviceAccount}/${association.roleArn}`
    const cached = state.byAssociation.get(key)
    entry =
      cached !== undefined && now < cached.credentials.expiresAt - state.lifetimeMs / 2 ? cached : issue()
    state.byAssociation.set(key, entry)
  } else if (state.cache) {
    // The real agent: keyed by the token, the same set (and Expiration) until it renews it at
    // min(lifetime, 3 h), and never a set with 15 s or less left (refreshing_cache.go
    // GetIamCredentials / callDelegateAndCache). A rotated token is a new key: a new set.
    const cached = state.byToken.get(token)
    const usable =
      cached !== undefined &&
      now < cached.renewAt &&
      cached.credentials.expiresAt - now > AGENT_MIN_CREDENTIAL_TTL_MS
    entry = usable ? cached : issue()
    if (!usable) {
      state.byToken.delete(token)
      if (entry.credentials.expiresAt - now > AGENT_MIN_CREDENTIAL_TTL_MS) {
        state.byToken.set(token, entry)
        // Oldest first out, bounded as the agent's LRU (`--max-cache-size`).
        if (state.byToken.size > AGENT_MAX_CACHE_SIZE) {
          state.byToken.delete(state.byToken.keys().next().value as string)
        }
      }
    }
  } else {
    entry = issue()
  }
  const { credentials } = entry
  send(
    res,
    200,
    'application/json',
    JSON.stringify({
      AccessKeyId: credentials.accessKeyId,
      SecretAccessKey: credentials.secretAccessKey,
      Token: credentials.sessionToken,
      AccountId: credentials.accountId,
      Expiration: rfc3339Nano(credentials.expiresAt + (spec.skewMs ?? 0), entry.nanos),
    }),
  )
}
