import type { ExplainedLink } from '@podcreds/chain'
import { readEnv, scrub } from '@podcreds/core'
import { advisoryWindowFor } from '@podcreds/refresh'
import { relative } from '../../output.js'
import type { Check } from '../Check.js'
import type { DoctorFacts, TokenFact } from '../DoctorFacts.js'
import type { Finding } from '../Finding.js'
import { tokenHasError } from './tokenFindings.js'

/**
 * The one walk of the default chain, as findings: the credentials it got (one access key id: the
 * walk is the only resolve), or the cause of its failure with the fix for that cause, chosen from
 * the failing link's error code, HTTP status and STS error code — never from message text — or,
 * when nothing is set up, the likely cause where doctor runs (issue #21).
 */
export const checkChain: Check = {
  name: 'chain',
  run(facts) {
    const { chain } = facts
    if (chain.timedOutAfterMs !== undefined) {
      return [
        finding(
          'error',
          `the credential chain gave no answer within ${chain.timedOutAfterMs / 1000} s`,
          'a link hangs: run podcreds doctor --json and look at the links; a credential_process in the selected AWS profile that waits for input is a common cause',
        ),
      ]
    }
    if (chain.explanation === undefined) {
      return [finding('error', `the credential chain could not be walked: ${chain.error ?? 'unknown error'}`)]
    }
    const { links, chosen } = chain.explanation
    if (chosen !== undefined) {
      const link = links.find((candidate) => candidate.name === chosen)
      return [
        ...(link === undefined ? [] : [credentialsFinding(link, facts.now)]),
        ...ignoredProfile(facts, chosen),
      ]
    }
    const failed = links.find((link) => link.status === 'failed')
    if (failed !== undefined) {
      const cause = failureFinding(failed, facts)
      return cause === undefined ? [] : [cause]
    }
    return nothingSetUp(facts)
  },
}

function finding(severity: Finding['severity'], message: string, fix?: string): Finding {
  return fix === undefined
    ? { check: 'chain', severity, message }
    : { check: 'chain', severity, message, fix }
}

function credentialsFinding(link: ExplainedLink, now: number): Finding {
  const { accessKeyId, expiration, accountId } = link.details
  const account = accountId === undefined ? '' : ` (account ${accountId})`
  if (expiration === undefined) {
    return finding('ok', `credentials from the ${link.name} link: ${accessKeyId}${account}, with no expiry`)
  }
  const expiresAt = Date.parse(expiration)
  // DESIGN rule 3, phase spreading: after a first fetch the engine refreshes at a point drawn
  // from [fetch + lifetime/4, expiry − W/2], W the advisory window of the lifetime (clamped to it).
  const lifetime = Math.max(0, expiresAt - now)
  const window = Math.min(advisoryWindowFor(lifetime), lifetime)
  const from = now + lifetime / 4
  const to = Math.max(from, expiresAt - window / 2)
  return finding(
    'ok',
    `credentials from the ${link.name} link: ${accessKeyId}${account}, expire ${expiration} (${relative(expiresAt - now)}); a process that fetched them now refreshes them in the background between ${new Date(from).toISOString()} and ${new Date(to).toISOString()} (jittered)`,
  )
}

// Failures that may be caused by the token the link sends: when the token check found an error in
// that token, it is the cause, reported there once with its fix (issue #21: one cause, one finding).
function tokenRelated(link: ExplainedLink): boolean {
  const { code, status, stsCode } = link.details
  if (code === 'ERR_TOKEN_FILE' || code === 'ERR_TOKEN_INVALID' || code === 'ERR_TOKEN_EXPIRED') return true
  if (link.name === 'web-identity' && code === 'ERR_STS') {
    return (
      stsCode === 'InvalidIdentityToken' ||
      stsCode === 'ExpiredToken' ||
      stsCode === 'IDPRejectedClaim' ||
      stsCode === 'AccessDenied'
    )
  }
  if (link.name === 'container' && code === 'ERR_HTTP_STATUS') {
    return status === '400' || status === '401' || status === '403'
  }
  return false
}

function tokenOf(facts: DoctorFacts, purpose: TokenFact['purpose']): TokenFact | undefined {
  return facts.tokens.find((token) => token.purpose === purpose)
}

function failureFinding(link: ExplainedLink, facts: DoctorFacts): Finding | undefined {
  const purpose =
    link.name === 'web-identity' ? 'irsa' : link.name === 'container' ? 'pod-identity' : undefined
  if (purpose !== undefined && tokenRelated(link) && tokenHasError(tokenOf(facts, purpose), facts.now)) {
    return undefined
  }
  const message = `the ${link.name} link is configured but fails: ${scrub(link.reason, [], 400)}`
  const fix =
    link.name === 'env'
      ? envFix(facts)
      : link.name === 'web-identity'
        ? webIdentityFix(link, facts)
        : link.name === 'container'
          ? containerFix(link, facts)
          : link.name === 'sdk'
            ? sdkFix(facts)
            : undefined
  return finding('error', message, fix)
}

function envFix({ env }: DoctorFacts): string {
  const pair =
    readEnv(env, 'AWS_ACCESS_KEY_ID') !== undefined && readEnv(env, 'AWS_SECRET_ACCESS_KEY') !== undefined
  if (pair && readEnv(env, 'AWS_CREDENTIAL_EXPIRATION') !== undefined) {
    return 'set AWS_CREDENTIAL_EXPIRATION to an RFC 3339 date-time in the future (e.g. 2026-01-01T00:00:00Z), or unset it'
  }
  return 'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY together (and AWS_SESSION_TOKEN for temporary keys), or unset both'
}

const MOUNT_FIX =
  'check the projected volume mount (kubectl describe pod: volumes and volumeMounts) and that the container user may read the file'

function webIdentityFix(link: ExplainedLink, facts: DoctorFacts): string {
  const { env } = facts
  const { code, stsCode } = link.details
  const role = readEnv(env, 'AWS_ROLE_ARN')
  switch (code) {
    case 'ERR_TOKEN_FILE':
    case 'ERR_TOKEN_INVALID':
    case 'ERR_TOKEN_EXPIRED':
      return MOUNT_FIX
    case 'ERR_INVALID_CONFIG':
      if (role === undefined) {
        return 'set AWS_ROLE_ARN next to AWS_WEB_IDENTITY_TOKEN_FILE (the EKS webhook sets both from the eks.amazonaws.com/role-arn annotation of the service account)'
      }
      if (readEnv(env, 'AWS_WEB_IDENTITY_TOKEN_FILE') === undefined) {
        return 'set AWS_WEB_IDENTITY_TOKEN_FILE to the projected token next to AWS_ROLE_ARN (the EKS webhook sets both, with the volume)'
      }
      return 'AWS_ROLE_ARN must be arn:<partition>:iam::<12 digits>:role/<name>, AWS_REGION a region code (us-east-1), AWS_ENDPOINT_URL_STS an http(s) URL'
    case 'ERR_STS':
      switch (stsCode) {
        case 'AccessDenied':
        case 'InvalidIdentityToken':
        case 'IDPRejectedClaim': {
          const sub = tokenOf(facts, 'irsa')?.info?.subject
          return `the role's trust policy must allow sts:AssumeRoleWithWebIdentity for this cluster's OIDC provider with ${sub === undefined ? "this token's sub" : `sub ${scrub(sub, [], 253)}`} and aud sts.amazonaws.com, and the IAM OIDC provider for the token's issuer must exist: podcreds trust-policy lint <file> (aws iam get-role --role-name <name> --query Role.AssumeRolePolicyDocument)${role === undefined ? '' : `; the role is ${role}`}`
        }
        case 'ExpiredToken':
          return "STS says the token expired: check this node's clock (NTP) and that kubelet rotates the projected token"
        case 'RegionDisabled':
          return 'activate STS in this region (IAM account settings) or set AWS_REGION to a region where it is active'
        case 'IDPCommunicationError':
          return "STS could not fetch the issuer's keys: this is usually brief (retry); for a self-managed issuer, check that its discovery document and JWKS are reachable from the internet"
        default:
          return 'see the STS error code in the message (AssumeRoleWithWebIdentity errors, STS API reference)'
      }
    case 'ERR_NETWORK':
    case 'ERR_HTTP_TIMEOUT':
      return 'check egress to STS: a VPC endpoint for sts, HTTPS_PROXY/NO_PROXY, network policies, and AWS_ENDPOINT_URL_STS if set'
    default:
      return 'the STS endpoint did not answer as STS: check AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL and any proxy in between'
  }
}

function containerFix(link: ExplainedLink, facts: DoctorFacts): string {
  const { code, status } = link.details
  const { pod } = facts
  const account =
    pod.namespace !== undefined && pod.serviceAccount !== undefined
      ? `${pod.namespace}/${pod.serviceAccount}`
      : '<namespace>/<service account>'
  switch (code) {
    case 'ERR_ENDPOINT_NOT_ALLOWED':
    case 'ERR_INVALID_CONFIG':
      return 'AWS_CONTAINER_CREDENTIALS_FULL_URI must be the Pod Identity agent (http://169.254.170.23/v1/credentials, as the EKS webhook sets it), an https: URL, or loopback'
    case 'ERR_TOKEN_FILE':
    case 'ERR_TOKEN_INVALID':
    case 'ERR_TOKEN_EXPIRED':
      return MOUNT_FIX
    case 'ERR_HTTP_STATUS':
      switch (status) {
        case '404':
          return `the agent has no Pod Identity association for ${account}: aws eks list-pod-identity-associations --cluster-name <cluster> --namespace ${pod.namespace ?? '<namespace>'}; create one, or fix its namespace/service account`
        case '403':
          return "the association's role must trust pods.eks.amazonaws.com with sts:AssumeRole and sts:TagSession: podcreds trust-policy lint --mode pod-identity <file>"
        case '400':
        case '401':
          return "the agent rejected the token: AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE must be the projected token with audience pods.eks.amazonaws.com (the EKS webhook's eks-pod-identity-token volume)"
        case '429':
          return 'the agent throttles this node (too many requests at once): this passes; cache credentials per process (defaultChain does) instead of asking per request'
        default:
          return 'the agent could not get credentials from EKS: kubectl -n kube-system logs ds/eks-pod-identity-agent, and check that the node role may call eks-auth:AssumeRoleForPodIdentity'
      }
    case 'ERR_NETWORK':
    case 'ERR_HTTP_TIMEOUT':
      return 'check that the eks-pod-identity-agent DaemonSet runs on this node (kubectl -n kube-system get ds eks-pod-identity-agent) and that network policies allow 169.254.170.23:80'
    default:
      return 'the endpoint answered, but not with credentials: AWS_CONTAINER_CREDENTIALS_FULL_URI must point at the Pod Identity agent'
  }
}

function sdkFix({ profile, sdkAvailable }: DoctorFacts): string {
  // A selected profile that exists fails the chain when the SDK cannot read it (issue #17): the
  // cause is the missing package, not the profile.
  if (!sdkAvailable) return SDK_INSTALL
  if (profile === undefined) {
    return 'a profile the AWS SDK reads (default, or a credential_process in it) fails: check ~/.aws/config and ~/.aws/credentials'
  }
  return `the profile ${profile.name} (AWS_PROFILE) cannot be used as it is: fix it in ${profile.configFile} (aws configure list --profile ${profile.name}), or unset AWS_PROFILE`
}

const SDK_UNAVAILABLE =
  'the AWS SDK fallback is unavailable: @aws-sdk/credential-provider-node is not installed next to @podcreds/chain'
const SDK_INSTALL =
  'install @aws-sdk/credential-provider-node in this app (an optional peer of @podcreds/chain), or unset AWS_PROFILE'

function ignoredProfile(facts: DoctorFacts, chosen: string): Finding[] {
  const { profile } = facts
  if (profile === undefined || chosen === 'sdk') return []
  if (!facts.sdkAvailable) {
    return [
      finding(
        'warning',
        `AWS_PROFILE is ${profile.name}, but ${SDK_UNAVAILABLE}, so the profile was not read; the credentials came from the ${chosen} link`,
        SDK_INSTALL,
      ),
    ]
  }
  if (profile.foundIn.length === 0) {
    return [
      finding(
        'warning',
        `AWS_PROFILE is ${profile.name}, but neither ${profile.configFile} nor ${profile.credentialsFile} has that profile; the chain went on to the ${chosen} link, as the AWS SDK for JS does`,
        `unset AWS_PROFILE, or add the profile to ${profile.configFile}`,
      ),
    ]
  }
  return []
}

function nothingSetUp(facts: DoctorFacts): Finding[] {
  const { profile, pod } = facts
  if (profile !== undefined) return [profileFinding(facts, profile)]
  // An AKS pod has no AWS source, and needs none: the azure check speaks for it.
  if (facts.azure !== undefined) return []
  if (pod.inCluster) {
    const ns = pod.namespace ?? '<namespace>'
    const sa = pod.serviceAccount ?? '<service account>'
    const who = pod.serviceAccount === undefined ? '' : ` (service account ${ns}/${sa})`
    return [
      finding(
        'error',
        `no credential source is set up in this pod${who}: none of AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE (IRSA), AWS_CONTAINER_CREDENTIALS_FULL_URI (EKS Pod Identity) or AWS_ACCESS_KEY_ID is set`,
        `if the eks.amazonaws.com/role-arn annotation or the Pod Identity association of ${ns}/${sa} was added after this pod started, restart the pods: the EKS webhook sets these variables only on pods it creates (kubectl -n ${ns} rollout restart deployment/<name>). Otherwise give the service account a role: aws eks create-pod-identity-association --cluster-name <cluster> --namespace ${ns} --service-account ${sa} --role-arn <role>, or the eks.amazonaws.com/role-arn annotation for IRSA`,
      ),
    ]
  }
  return [
    finding(
      'error',
      'no credential source is set up in this environment',
      'set AWS_PROFILE (with @aws-sdk/credential-provider-node installed) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
    ),
  ]
}

function profileFinding(facts: DoctorFacts, profile: NonNullable<DoctorFacts['profile']>): Finding {
  const name = profile.name
  if (!facts.sdkAvailable) {
    return finding(
      'error',
      `AWS_PROFILE is ${name}, but profiles cannot be read here: ${SDK_UNAVAILABLE}`,
      SDK_INSTALL,
    )
  }
  if (profile.unreadable.length > 0) {
    return finding(
      'error',
      `AWS_PROFILE is ${name}, and ${profile.unreadable.join(' and ')} cannot be read (permissions, or too large for a profile file)`,
      `make ${profile.unreadable.join(' and ')} readable by this user, or unset AWS_PROFILE`,
    )
  }
  if (profile.foundIn.length === 0) {
    const skipped = profile.notIni.map(
      ({ file, line }) => `line ${line} of ${file} is not INI, and the AWS SDK skips it`,
    )
    return finding(
      'error',
      `AWS_PROFILE is ${name}, and neither ${profile.configFile} nor ${profile.credentialsFile} has that profile${skipped.length === 0 ? '' : ` (${skipped.join('; ')})`}`,
      `AWS_PROFILE is ${name}: add [profile ${name}] to ${profile.configFile} (or [${name}] to ${profile.credentialsFile}), or unset AWS_PROFILE`,
    )
  }
  return finding(
    'error',
    `AWS_PROFILE is ${name} (in ${profile.foundIn.join(' and ')}), but the AWS SDK found no credentials in it`,
    `give the profile credentials: keys, role_arn with source_profile, sso_session, or credential_process (aws configure list --profile ${name})`,
  )
}
