import type { TrustPolicy } from './TrustPolicy.js'

/** Options of {@link generateTrustPolicy}. */
export interface GenerateTrustPolicyOptions {
  /**
   * The cluster's OIDC issuer URL (`aws eks describe-cluster --query cluster.identity.oidc.issuer`),
   * e.g. `https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE`. The
   * scheme is optional: IAM keys conditions by host and path only.
   */
  issuer: string
  /** The Kubernetes namespace of the service account, e.g. `default`. */
  namespace: string
  /** The service account's name, e.g. `app`. */
  serviceAccount: string
  /**
   * The 12-digit AWS account id that owns the IAM OIDC provider. Without it the `Federated` ARN
   * carries the placeholder {@link ACCOUNT_ID_PLACEHOLDER}, to be replaced before use.
   */
  accountId?: string
}

/** What {@link generateTrustPolicy} writes in place of an account id it was not given. */
export const ACCOUNT_ID_PLACEHOLDER = '<ACCOUNT_ID>'

/** The audience of IRSA tokens: what `eks.amazonaws.com/role-arn` pods get projected. */
const IRSA_AUDIENCE = 'sts.amazonaws.com'

/**
 * Writes the IRSA trust policy for one service account: `sts:AssumeRoleWithWebIdentity` from the
 * cluster's IAM OIDC provider, with `StringEquals` on both `<issuer>:sub` (exactly
 * `system:serviceaccount:<namespace>:<serviceAccount>`) and `<issuer>:aud` (`sts.amazonaws.com`),
 * the form AWS documents and {@link lintTrustPolicy} accepts without findings. A malformed
 * option throws a `TypeError` naming it.
 *
 * @example
 * ```ts
 * const policy = generateTrustPolicy({
 *   issuer: 'https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE',
 *   namespace: 'default',
 *   serviceAccount: 'app',
 *   accountId: '111122223333',
 * })
 * console.log(JSON.stringify(policy, null, 2))
 * ```
 */
export function generateTrustPolicy(options: GenerateTrustPolicyOptions): TrustPolicy {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object')
  const issuer = issuerHostPath(options.issuer)
  if (typeof options.namespace !== 'string' || !DNS_LABEL.test(options.namespace)) {
    throw new TypeError(
      'namespace must be a Kubernetes namespace name (lowercase DNS label, 1-63 characters)',
    )
  }
  if (
    typeof options.serviceAccount !== 'string' ||
    options.serviceAccount.length > 253 ||
    !DNS_SUBDOMAIN.test(options.serviceAccount)
  ) {
    throw new TypeError('serviceAccount must be a Kubernetes service account name (lowercase DNS subdomain)')
  }
  if (
    options.accountId !== undefined &&
    (typeof options.accountId !== 'string' || !/^\d{12}$/.test(options.accountId))
  ) {
    throw new TypeError('accountId must be a 12-digit AWS account id')
  }
  const account = options.accountId ?? ACCOUNT_ID_PLACEHOLDER
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: `arn:aws:iam::${account}:oidc-provider/${issuer}` },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            [`${issuer}:sub`]: `system:serviceaccount:${options.namespace}:${options.serviceAccount}`,
            [`${issuer}:aud`]: IRSA_AUDIENCE,
          },
        },
      },
    ],
  }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/

/**
 * `https://host/path/` → `host/path`: IAM names an OIDC provider and its condition keys by the
 * issuer without scheme or trailing slash.
 */
function issuerHostPath(issuer: unknown): string {
  if (typeof issuer !== 'string' || issuer.trim() === '')
    throw new TypeError('issuer must be a non-empty URL')
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(issuer) ? issuer : `https://${issuer}`
  let url: URL
  try {
    url = new URL(withScheme)
  } catch {
    throw new TypeError('issuer must be a URL such as https://oidc.eks.<region>.amazonaws.com/id/<id>')
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search !== '' || url.hash !== '') {
    throw new TypeError('issuer must be an https URL without query or fragment')
  }
  return `${url.host}${url.pathname}`.replace(/\/+$/, '')
}
