/**
 * An IAM role trust policy document (the `AssumeRolePolicyDocument` of a role), as JSON.
 * Only the parts the emulator evaluates and the linter inspects are typed; any other member is
 * kept as it is.
 */
export interface TrustPolicy {
  /** The policy language version, `2012-10-17`. */
  Version?: string
  /** The statements; a single statement object is accepted as IAM does. */
  Statement: TrustPolicyStatement | TrustPolicyStatement[]
}

/** One statement of a {@link TrustPolicy}. */
export interface TrustPolicyStatement {
  /** Optional statement id. */
  Sid?: string
  /** `Allow` or `Deny`. */
  Effect: 'Allow' | 'Deny' | (string & {})
  /**
   * Who may assume the role: `{ Federated: 'arn:aws:iam::<account>:oidc-provider/<issuer>' }` for
   * IRSA, `{ Service: 'pods.eks.amazonaws.com' }` for EKS Pod Identity, or `'*'`.
   */
  Principal?: string | Record<string, string | string[]>
  /** `sts:AssumeRoleWithWebIdentity` (IRSA) or `['sts:AssumeRole', 'sts:TagSession']` (Pod Identity). */
  Action?: string | string[]
  /** Operator → condition key → value(s), e.g. `{ StringEquals: { '<issuer>:aud': 'sts.amazonaws.com' } }`. */
  Condition?: Record<string, Record<string, string | string[]>>
}
