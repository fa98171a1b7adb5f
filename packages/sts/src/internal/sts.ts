import type { TemporaryCredentials } from '@podcreds/core'
import { CredentialsError, protectCredentials, scrub } from '@podcreds/core'
import { parseXml, text } from './stsXml.js'

/** A managed session policy, as STS's `PolicyDescriptorType`. */
export interface StsPolicyDescriptor {
  /** The policy ARN, e.g. `arn:aws:iam::aws:policy/ReadOnlyAccess`. */
  arn: string
}

/**
 * The parameters of one `AssumeRoleWithWebIdentity` request.
 */
export interface AssumeRoleParams {
  /** `RoleArn`: the role to assume. */
  roleArn: string
  /** `RoleSessionName`. */
  roleSessionName: string
  /** `WebIdentityToken`: the projected service-account token (a secret). */
  webIdentityToken: string
  /** `DurationSeconds`, in seconds; STS's default when undefined. */
  durationSeconds: number | undefined
  /** `Policy`: an inline session policy. */
  policy: string | undefined
  /** `PolicyArns.member.N.arn`: managed session policies. */
  policyArns: readonly StsPolicyDescriptor[] | undefined
  /** `ProviderId`: the OAuth 2.0 identity provider. */
  providerId: string | undefined
}

/**
 * The form body of the Query-protocol request. `URLSearchParams` encodes as
 * `application/x-www-form-urlencoded`, which STS decodes, so `&`, `=`, `+` and any Unicode in a
 * token or policy round-trip.
 */
export function formBody(params: AssumeRoleParams): string {
  const form = new URLSearchParams()
  form.set('Action', 'AssumeRoleWithWebIdentity')
  form.set('Version', '2011-06-15')
  form.set('RoleArn', params.roleArn)
  form.set('RoleSessionName', params.roleSessionName)
  form.set('WebIdentityToken', params.webIdentityToken)
  if (params.durationSeconds !== undefined) form.set('DurationSeconds', String(params.durationSeconds))
  if (params.policy !== undefined) form.set('Policy', params.policy)
  // Query protocol lists are 1-based: PolicyArns.member.1.arn, PolicyArns.member.2.arn, …
  params.policyArns?.forEach((descriptor, index) => {
    form.set(`PolicyArns.member.${index + 1}.arn`, descriptor.arn)
  })
  if (params.providerId !== undefined) form.set('ProviderId', params.providerId)
  return form.toString()
}

/** The STS actions podcreds sends. */
export type StsAction = 'AssumeRoleWithWebIdentity' | 'AssumeRole'

// Transient STS faults: the IdP did not answer in time, or STS is shedding load.
const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  'IDPCommunicationError',
  'IDPCommunicationErrorException',
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'ServiceUnavailable',
  'InternalFailure',
])

// Answers that another attempt will not change (the refresh engine keeps serving valid
// credentials through them and retries at its backoff cap, DESIGN rule 7).
const NON_RECOVERABLE_CODES: ReadonlySet<string> = new Set([
  'AccessDenied',
  'IDPRejectedClaim',
  'IDPRejectedClaimException',
  'InvalidIdentityToken',
  'InvalidIdentityTokenException',
  'ExpiredToken',
  'ExpiredTokenException',
  'MalformedPolicyDocument',
  'MalformedPolicyDocumentException',
  'PackedPolicyTooLarge',
  'PackedPolicyTooLargeException',
  'RegionDisabled',
  'RegionDisabledException',
  'InvalidParameterValue',
  'InvalidAction',
  'ValidationError',
  // AssumeRole: the source's key (fromAssumeRole invalidates it at the source and tries once more).
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'RequestTimeTooSkewed',
])

/** Whether STS rejected the signing key itself: expired or unknown (fromAssumeRole's source). */
export function isRejectedSourceKey(error: unknown): boolean {
  return (
    error instanceof CredentialsError &&
    (error.stsCode === 'ExpiredToken' ||
      error.stsCode === 'ExpiredTokenException' ||
      error.stsCode === 'InvalidClientTokenId')
  )
}

/**
 * Whether an STS error code says the token was rejected (worth one re-read of the file).
 */
export function isInvalidIdentityToken(error: unknown): boolean {
  return (
    error instanceof CredentialsError &&
    (error.stsCode === 'InvalidIdentityToken' || error.stsCode === 'InvalidIdentityTokenException')
  )
}

const MAX_MESSAGE = 300

/**
 * Judges one STS answer: credentials on 200, an `ERR_STS` for an `ErrorResponse`, and
 * `ERR_RESPONSE_INVALID` for anything else. `secrets` are scrubbed from any server text.
 */
export async function readStsResponse(
  status: number,
  body: string,
  where: string,
  roleArn: string,
  secrets: readonly string[],
  now: number,
  action: StsAction = 'AssumeRoleWithWebIdentity',
): Promise<TemporaryCredentials> {
  const parsed = await parseXml(body)
  const transient = status === 429 || status >= 500
  if (!parsed.ok) {
    const reason =
      parsed.reason === 'declaration'
        ? 'contains a DOCTYPE or ENTITY declaration'
        : 'is not well-formed XML (or nests too deep)'
    if (status !== 200) {
      // A proxy's HTML page or an empty 503: judge by the status alone.
      throw new CredentialsError(`STS at ${where} answered HTTP ${status} with a body that ${reason}`, {
        code: 'ERR_HTTP_STATUS',
        status,
        retryable: transient,
      })
    }
    throw new CredentialsError(`STS response from ${where} ${reason}`, {
      code: 'ERR_RESPONSE_INVALID',
      status,
    })
  }
  const { document } = parsed
  if (status !== 200) {
    const code = text(document, 'ErrorResponse', 'Error', 'Code')
    if (code === undefined) {
      throw new CredentialsError(`STS at ${where} answered HTTP ${status} without an STS error code`, {
        code: 'ERR_HTTP_STATUS',
        status,
        retryable: transient,
      })
    }
    const message = scrub(text(document, 'ErrorResponse', 'Error', 'Message') ?? '', secrets, MAX_MESSAGE)
    const stsCode = scrub(code, secrets, 64)
    const retryable = RETRYABLE_CODES.has(code) || (transient && !NON_RECOVERABLE_CODES.has(code))
    throw new CredentialsError(
      `STS ${action} for ${roleArn} failed: ${stsCode} (HTTP ${status})${message === '' ? '' : `: ${message}`}`,
      { code: 'ERR_STS', status, stsCode, retryable },
    )
  }

  const result = [`${action}Response`, `${action}Result`] as const
  const credentials = [...result, 'Credentials']
  const field = (name: string): string => {
    const value = text(document, ...credentials, name)
    if (value === undefined) {
      throw new CredentialsError(`STS ${action} response from ${where} lacks Credentials.${name}`, {
        code: 'ERR_RESPONSE_INVALID',
        status,
      })
    }
    return value
  }
  const accessKeyId = field('AccessKeyId')
  const secretAccessKey = field('SecretAccessKey')
  const sessionToken = field('SessionToken')
  const expirationText = field('Expiration')
  const expiration = new Date(expirationText)
  if (!/^\d{4}-\d\d-\d\dT/.test(expirationText) || Number.isNaN(expiration.getTime())) {
    throw new CredentialsError(`STS response from ${where} has a malformed Credentials.Expiration`, {
      code: 'ERR_RESPONSE_INVALID',
      status,
    })
  }
  if (expiration.getTime() <= now) {
    // Already expired (a replayed answer, or STS's clock against ours): a broken answer, as the
    // container provider judges it (issue 11). The parsed date is printed, never the raw text.
    throw new CredentialsError(
      `STS response from ${where} has a Credentials.Expiration in the past (${expiration.toISOString()}, now ${new Date(now).toISOString()})`,
      { code: 'ERR_RESPONSE_INVALID', status },
    )
  }
  const arn = text(document, ...result, 'AssumedRoleUser', 'Arn')
  // arn:aws:sts::123456789012:assumed-role/<role>/<session>: the fifth field is the account.
  const accountId = arn?.split(':')[4]
  return protectCredentials({
    accessKeyId,
    secretAccessKey,
    sessionToken,
    expiration,
    ...(accountId !== undefined && /^\d{12}$/.test(accountId) ? { accountId } : {}),
  })
}
