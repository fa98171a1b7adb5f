import { randomUUID } from 'node:crypto'
import type { Context, Exchange } from './context.js'
import { send } from './context.js'
import type { IssuedCredentials } from './credentialStore.js'
import { evaluateTrustPolicy } from './evaluateTrustPolicy.js'
import { rfc3339 } from './ids.js'
import { audiences, serviceAccountOf } from './issuer.js'

export const POD_IDENTITY_AUDIENCE = 'pods.eks.amazonaws.com'
const CLUSTER = 'podcreds'

/** Per-association cache used by the `sameCredentials` fault, as the real agent caches. */
export type AgentCache = Map<string, IssuedCredentials>

/**
 * The EKS Pod Identity agent (`GET /v1/credentials`). It takes the projected token raw in
 * `Authorization`, validates it as EKS Auth's `AssumeRoleForPodIdentity` does (signature,
 * issuer, audience `pods.eks.amazonaws.com`, expiry), finds the association of the token's
 * namespace and service account and answers the agent's JSON, or an agent-style text/plain error:
 * 400 invalid or expired token, 403 the role does not trust Pod Identity, 404 no association.
 */
export async function handleAgent(context: Context, exchange: Exchange, cache: AgentCache): Promise<void> {
  const { req, res, url } = exchange
  const text = (status: number, message: string): void =>
    send(res, status, 'text/plain; charset=utf-8', message)
  if (url.pathname !== '/v1/credentials') return text(404, 'Not Found')
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
  const cacheKey = `${association.namespace}/${association.serviceAccount}/${association.roleArn}`
  let credentials = spec.sameCredentials === true ? cache.get(cacheKey) : undefined
  // The agent renews a cached set once half of its lifetime is gone.
  if (credentials !== undefined && now >= credentials.expiresAt - context.credentialLifetimeMs / 2) {
    credentials = undefined
  }
  if (credentials === undefined) {
    const pod = claims['kubernetes.io']?.pod?.name ?? 'pod'
    const session = `eks-${CLUSTER}-${pod}-${randomUUID()}`.slice(0, 64)
    credentials = context.store.issue(association.roleArn, session, context.credentialLifetimeMs, now)
    cache.set(cacheKey, credentials)
  }
  send(
    res,
    200,
    'application/json',
    JSON.stringify({
      AccessKeyId: credentials.accessKeyId,
      SecretAccessKey: credentials.secretAccessKey,
      Token: credentials.sessionToken,
      AccountId: credentials.accountId,
      Expiration: rfc3339(credentials.expiresAt + (spec.skewMs ?? 0)),
    }),
  )
}
