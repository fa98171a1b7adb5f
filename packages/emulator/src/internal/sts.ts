import { randomUUID } from 'node:crypto'
import { stsError } from './awsErrors.js'
import type { Context, Exchange } from './context.js'
import { accountOf, oidcProviderArn, send } from './context.js'
import { evaluateTrustPolicy } from './evaluateTrustPolicy.js'
import { rfc3339 } from './ids.js'
import { audiences } from './issuer.js'
import { verifySigV4 } from './sigv4.js'
import { STS_XMLNS } from './xml.js'

const SESSION_NAME = /^[\w+=,.@-]{2,64}$/

/** The parameters of a query-protocol request: the form body of a POST, or the query string. */
export function queryParams(exchange: Exchange): URLSearchParams {
  const params = new URLSearchParams(exchange.url.search)
  const type = exchange.req.headers['content-type'] ?? ''
  if (
    exchange.req.method === 'POST' &&
    (type === '' || type.startsWith('application/x-www-form-urlencoded'))
  ) {
    for (const [name, value] of new URLSearchParams(exchange.body.toString('utf8'))) params.set(name, value)
  }
  return params
}

/**
 * STS's query protocol: unsigned `AssumeRoleWithWebIdentity`, signed `GetCallerIdentity` (botocore
 * sends both to `AWS_ENDPOINT_URL_STS`) and signed `AssumeRole` (role chaining, issue 19).
 * `skewMs` is the endpoint's fault skew.
 */
export async function handleSts(context: Context, exchange: Exchange, skewMs: number): Promise<void> {
  const params = queryParams(exchange)
  const action = params.get('Action')
  if (action === 'AssumeRoleWithWebIdentity')
    return assumeRoleWithWebIdentity(context, exchange, params, skewMs)
  if (action === 'GetCallerIdentity') return getCallerIdentity(context, exchange, skewMs)
  if (action === 'AssumeRole') return assumeRole(context, exchange, params, skewMs)
  stsError(
    context.xml,
    exchange.res,
    400,
    'InvalidAction',
    `Could not find operation ${action ?? '(none)'} for version ${params.get('Version') ?? '(none)'}`,
  )
}

export async function getCallerIdentity(context: Context, exchange: Exchange, skewMs: number): Promise<void> {
  const verified = await verifySigV4(context, exchange, skewMs)
  if (!verified.ok)
    return stsError(context.xml, exchange.res, verified.status, verified.code, verified.message)
  const { credentials } = verified
  const requestId = randomUUID()
  send(
    exchange.res,
    200,
    'text/xml',
    context.xml(
      'GetCallerIdentityResponse',
      {
        GetCallerIdentityResult: {
          Arn: credentials.arn,
          UserId: credentials.userId,
          Account: credentials.accountId,
        },
        ResponseMetadata: { RequestId: requestId },
      },
      STS_XMLNS,
    ),
    { 'x-amzn-requestid': requestId },
  )
}

async function assumeRoleWithWebIdentity(
  context: Context,
  exchange: Exchange,
  params: URLSearchParams,
  skewMs: number,
): Promise<void> {
  const { res } = exchange
  const error = (status: number, code: string, message: string): void =>
    stsError(context.xml, res, status, code, message)
  const roleArn = params.get('RoleArn')
  const sessionName = params.get('RoleSessionName')
  const token = params.get('WebIdentityToken')
  const invalid = requestProblem(params, [
    ['roleArn', 'RoleArn'],
    ['roleSessionName', 'RoleSessionName'],
    ['webIdentityToken', 'WebIdentityToken'],
  ])
  if (invalid !== undefined) return error(400, 'ValidationError', invalid)
  const duration = requestedDuration(params)
  if (duration.problem !== undefined) return error(400, 'ValidationError', duration.problem)
  const lifetimeMs = duration.seconds === undefined ? context.credentialLifetimeMs : duration.seconds * 1000
  const verified = await context.issuer.verify(token!)
  if (!verified.ok) {
    switch (verified.problem) {
      case 'expired':
        return error(400, 'ExpiredTokenException', verified.message)
      case 'issuer':
        return error(
          400,
          'InvalidIdentityToken',
          `No OpenIDConnect provider found in your account for ${issuerOf(verified.claims?.iss)}`,
        )
      case 'signature':
        return error(
          400,
          'InvalidIdentityToken',
          'Incorrect token signature: it does not verify with the keys of the issuer',
        )
      default:
        return error(400, 'InvalidIdentityToken', `Couldn't parse the token: ${verified.message}`)
    }
  }
  const claims = verified.claims
  // IAM accepts a token only for an audience (client id) registered on the OIDC provider.
  const audience = audiences(claims).find((aud) => context.clientIds.includes(aud))
  if (audience === undefined) return error(400, 'InvalidIdentityToken', 'Incorrect token audience')
  const policy = context.roles.get(roleArn!)
  const account = accountOf(roleArn!)
  const key = context.issuerHostPath.toLowerCase()
  const allowed =
    policy !== undefined &&
    account !== undefined &&
    evaluateTrustPolicy(policy, {
      actions: ['sts:AssumeRoleWithWebIdentity'],
      principal: { kind: 'Federated', value: oidcProviderArn(account, context.issuerHostPath) },
      context: { [`${key}:sub`]: claims.sub ?? '', [`${key}:aud`]: audience },
    })
  if (!allowed) return error(403, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity')
  const now = context.clock.now()
  const credentials = context.store.issue(roleArn!, sessionName!, lifetimeMs, now)
  const requestId = randomUUID()
  send(
    res,
    200,
    'text/xml',
    context.xml(
      'AssumeRoleWithWebIdentityResponse',
      {
        AssumeRoleWithWebIdentityResult: {
          SubjectFromWebIdentityToken: claims.sub ?? '',
          Audience: audience,
          AssumedRoleUser: { Arn: credentials.arn, AssumedRoleId: credentials.userId },
          Credentials: {
            AccessKeyId: credentials.accessKeyId,
            SecretAccessKey: credentials.secretAccessKey,
            SessionToken: credentials.sessionToken,
            Expiration: rfc3339(credentials.expiresAt + skewMs),
          },
          Provider: context.issuerHostPath,
        },
        ResponseMetadata: { RequestId: requestId },
      },
      STS_XMLNS,
    ),
    { 'x-amzn-requestid': requestId },
  )
}

function issuerOf(iss: unknown): string {
  return typeof iss === 'string' ? iss.replace(/^https?:\/\//, '').slice(0, 200) : '(none)'
}

// STS's answer to a chained session longer than an hour (AWS: "Role chaining limits your AWS CLI
// or AWS API role session to a maximum of one hour"); every set the emulator issues is a role
// session, so every AssumeRole here is role chaining.
const CHAINED_MAX_SECONDS = 3600
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/

/**
 * Signed `AssumeRole`: the caller must sign with a key this emulator issued (SigV4 verified with
 * `@smithy/signature-v4`), and the target role's trust policy must allow `sts:AssumeRole` (plus
 * `sts:TagSession` with tags, `sts:SetSourceIdentity` with a source identity) for the caller's
 * role — by its role ARN, its account's `:root` or the account id, as IAM matches an `AWS`
 * principal — with the condition keys `sts:ExternalId`, `sts:RoleSessionName`,
 * `sts:SourceIdentity`, `aws:PrincipalArn` and `aws:PrincipalAccount`.
 */
async function assumeRole(
  context: Context,
  exchange: Exchange,
  params: URLSearchParams,
  skewMs: number,
): Promise<void> {
  const { res } = exchange
  const error = (status: number, code: string, message: string): void =>
    stsError(context.xml, res, status, code, message)
  const verified = await verifySigV4(context, exchange, skewMs)
  if (!verified.ok) return error(verified.status, verified.code, verified.message)
  const caller = verified.credentials
  const roleArn = params.get('RoleArn')
  const sessionName = params.get('RoleSessionName')
  const invalid = requestProblem(params, [
    ['roleArn', 'RoleArn'],
    ['roleSessionName', 'RoleSessionName'],
  ])
  if (invalid !== undefined) return error(400, 'ValidationError', invalid)
  const externalId = params.get('ExternalId')
  if (externalId !== null && !EXTERNAL_ID.test(externalId)) {
    return error(
      400,
      'ValidationError',
      "1 validation error detected: Value at 'externalId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]*",
    )
  }
  const duration = requestedDuration(params)
  if (duration.problem !== undefined) return error(400, 'ValidationError', duration.problem)
  if (duration.seconds !== undefined && duration.seconds > CHAINED_MAX_SECONDS) {
    return error(
      400,
      'ValidationError',
      'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
    )
  }
  const lifetimeMs =
    duration.seconds === undefined
      ? Math.min(context.credentialLifetimeMs, CHAINED_MAX_SECONDS * 1000)
      : duration.seconds * 1000
  const callerRoleArn = caller.roleArn
  const callerAccount = caller.accountId
  const notAuthorized = (): void =>
    error(
      403,
      'AccessDenied',
      `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
    )
  const policy = context.roles.get(roleArn!)
  if (policy === undefined || accountOf(roleArn!) === undefined) return notAuthorized()
  const actions = ['sts:AssumeRole']
  if ([...params.keys()].some((name) => name.startsWith('Tags.member.'))) actions.push('sts:TagSession')
  const sourceIdentity = params.get('SourceIdentity')
  if (sourceIdentity !== null) actions.push('sts:SetSourceIdentity')
  const conditionContext: Record<string, string> = {
    'sts:rolesessionname': sessionName!,
    'aws:principalarn': callerRoleArn,
    'aws:principalaccount': callerAccount,
  }
  if (externalId !== null) conditionContext['sts:externalid'] = externalId
  if (sourceIdentity !== null) conditionContext['sts:sourceidentity'] = sourceIdentity
  const partition = /^arn:(aws[\w-]*):/.exec(callerRoleArn)?.[1] ?? 'aws'
  const allowed = evaluateTrustPolicy(policy, {
    actions,
    principal: {
      kind: 'AWS',
      value: [callerRoleArn, `arn:${partition}:iam::${callerAccount}:root`, callerAccount, caller.arn],
    },
    context: conditionContext,
  })
  if (!allowed) return notAuthorized()
  const now = context.clock.now()
  const credentials = context.store.issue(roleArn!, sessionName!, lifetimeMs, now)
  const requestId = randomUUID()
  send(
    res,
    200,
    'text/xml',
    context.xml(
      'AssumeRoleResponse',
      {
        AssumeRoleResult: {
          ...(sourceIdentity === null ? {} : { SourceIdentity: sourceIdentity }),
          AssumedRoleUser: { AssumedRoleId: credentials.userId, Arn: credentials.arn },
          Credentials: {
            AccessKeyId: credentials.accessKeyId,
            SecretAccessKey: credentials.secretAccessKey,
            SessionToken: credentials.sessionToken,
            Expiration: rfc3339(credentials.expiresAt + skewMs),
          },
        },
        ResponseMetadata: { RequestId: requestId },
      },
      STS_XMLNS,
    ),
    { 'x-amzn-requestid': requestId },
  )
}

/**
 * STS's `ValidationError` message for the first required member that is missing or empty
 * (`[member, parameter]` pairs, in STS's order), then for a `RoleSessionName` outside its
 * pattern; undefined when the request passes both. Shared by both actions, as STS words them.
 */
function requestProblem(
  params: URLSearchParams,
  required: readonly (readonly [member: string, parameter: string])[],
): string | undefined {
  for (const [member, parameter] of required) {
    const value = params.get(parameter)
    if (value === null || value === '') {
      return `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`
    }
  }
  if (!SESSION_NAME.test(params.get('RoleSessionName') ?? '')) {
    return "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"
  }
  return undefined
}

/** `DurationSeconds` within STS's 900–43,200 s: its value, absent, or STS's `ValidationError` message. */
function requestedDuration(params: URLSearchParams): { seconds?: number; problem?: string } {
  const duration = params.get('DurationSeconds')
  if (duration === null) return {}
  const seconds = Number(duration)
  if (!Number.isInteger(seconds) || seconds < 900 || seconds > 43_200) {
    return {
      problem:
        "1 validation error detected: Value at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200",
    }
  }
  return { seconds }
}
