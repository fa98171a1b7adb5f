import type { TrustPolicy, TrustPolicyStatement } from './TrustPolicy.js'

/** What {@link lintTrustPolicy} can find. */
export type TrustPolicyFindingCode =
  /** Not a policy document: not JSON, not an object, or no `Statement`. */
  | 'INVALID_POLICY'
  /** `Principal: '*'` or a wildcard federated/service principal: anyone may assume the role. */
  | 'WILDCARD_PRINCIPAL'
  /** An IRSA statement without any `<issuer>:sub` condition: every service account of the cluster. */
  | 'MISSING_SUB'
  /** `StringLike` with `*` or `?` on `<issuer>:sub`: other service accounts match too. */
  | 'WILDCARD_SUB'
  /** An IRSA statement without `<issuer>:aud`: tokens minted for other audiences are accepted. */
  | 'MISSING_AUD'
  /** `StringLike` on a value without wildcards: `StringEquals` says the same, and safely. */
  | 'STRING_LIKE_WITHOUT_WILDCARD'
  /** An audience that is not the one this kind of trust receives (IRSA vs Pod Identity). */
  | 'WRONG_AUDIENCE'
  /** A Pod Identity statement without both `sts:AssumeRole` and `sts:TagSession`. */
  | 'POD_IDENTITY_ACTIONS'

/** Options of {@link lintTrustPolicy}. */
export interface LintTrustPolicyOptions {
  /**
   * The kind of role the policy is meant for. `irsa`: some statement must grant
   * `sts:AssumeRoleWithWebIdentity` to an IAM OIDC provider; `pod-identity`: some statement must
   * trust the `pods.eks.amazonaws.com` service. Otherwise `WRONG_AUDIENCE` for the document.
   * @defaultValue unset: each statement is checked for its own kind
   */
  mode?: 'irsa' | 'pod-identity'
}

/** One problem found by {@link lintTrustPolicy}. */
export interface TrustPolicyFinding {
  /** Machine-readable kind. */
  code: TrustPolicyFindingCode
  /** `error`: the role can be assumed by more than intended, or not at all; `warning`: fragile. */
  severity: 'error' | 'warning'
  /** Index of the statement in `Statement` (0 for a single statement object), or -1 for the document. */
  statement: number
  /** What is wrong, in one sentence. */
  message: string
  /** How to fix it. */
  fix: string
}

const IRSA_AUDIENCE = 'sts.amazonaws.com'
const POD_IDENTITY_PRINCIPAL = 'pods.eks.amazonaws.com'

/**
 * Reviews a role trust policy for the mistakes that make IRSA or EKS Pod Identity roles
 * assumable by more than the intended service account: a wildcard or missing `sub`, a missing
 * `aud`, `StringLike` where `StringEquals` suffices, the wrong audience for the kind of trust
 * (IRSA tokens carry `sts.amazonaws.com`; Pod Identity roles trust the `pods.eks.amazonaws.com`
 * service principal with `sts:AssumeRole` and `sts:TagSession`), and wildcard principals.
 * Accepts the document as an object or as JSON text; never throws (an unusable document is an
 * `INVALID_POLICY` finding).
 *
 * @param options - `mode` states the kind of role the policy is for, see {@link LintTrustPolicyOptions}
 * @returns the findings, empty when the policy is clean
 * @example
 * ```ts
 * for (const finding of lintTrustPolicy(JSON.parse(policyJson))) {
 *   console.log(`${finding.severity} ${finding.code}: ${finding.message} Fix: ${finding.fix}`)
 * }
 * ```
 */
export function lintTrustPolicy(policy: unknown, options: LintTrustPolicyOptions = {}): TrustPolicyFinding[] {
  let document = policy
  if (typeof document === 'string') {
    try {
      document = JSON.parse(document)
    } catch {
      return [invalid('the policy is not valid JSON')]
    }
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    return [invalid('the policy is not a JSON object')]
  }
  const raw = (document as Partial<TrustPolicy>).Statement
  if (raw === undefined || (typeof raw !== 'object' && !Array.isArray(raw)) || raw === null) {
    return [invalid('the policy has no Statement')]
  }
  const statements = Array.isArray(raw) ? raw : [raw]
  const findings: TrustPolicyFinding[] = []
  statements.forEach((statement: unknown, index) => {
    if (typeof statement !== 'object' || statement === null) {
      findings.push({ ...invalid(`statement ${index} is not an object`), statement: index })
      return
    }
    lintStatement(statement as TrustPolicyStatement, index, findings)
  })
  const mode = options.mode
  if (mode === 'irsa' && !statements.some((statement) => kindOf(statement) === 'irsa')) {
    findings.push({
      code: 'WRONG_AUDIENCE',
      severity: 'error',
      statement: -1,
      message:
        'No statement allows sts:AssumeRoleWithWebIdentity from an IAM OIDC provider, so IRSA pods cannot assume this role.',
      fix: 'Generate the IRSA statement with `podcreds trust-policy generate` (Federated principal, StringEquals on :sub and :aud).',
    })
  }
  if (mode === 'pod-identity' && !statements.some((statement) => kindOf(statement) === 'pod-identity')) {
    findings.push({
      code: 'WRONG_AUDIENCE',
      severity: 'error',
      statement: -1,
      message: `No statement trusts the ${POD_IDENTITY_PRINCIPAL} service, so EKS Pod Identity cannot assume this role.`,
      fix: `Add { "Effect": "Allow", "Principal": { "Service": "${POD_IDENTITY_PRINCIPAL}" }, "Action": ["sts:AssumeRole", "sts:TagSession"] }.`,
    })
  }
  return findings
}

function kindOf(statement: unknown): 'irsa' | 'pod-identity' | undefined {
  if (typeof statement !== 'object' || statement === null) return undefined
  const { Effect, Principal, Action } = statement as TrustPolicyStatement
  if (Effect !== 'Allow') return undefined
  if (principalValues(Principal, 'Service').includes(POD_IDENTITY_PRINCIPAL)) return 'pod-identity'
  const federated = principalValues(Principal, 'Federated')
  const actions = list(Action).map((action) => action.toLowerCase())
  if (
    federated.some((arn) => arn.includes(':oidc-provider/')) &&
    actions.includes('sts:assumerolewithwebidentity')
  ) {
    return 'irsa'
  }
  return undefined
}

function invalid(message: string): TrustPolicyFinding {
  return {
    code: 'INVALID_POLICY',
    severity: 'error',
    statement: -1,
    message: `${message}.`,
    fix: 'Pass the role trust policy document: { "Version": "2012-10-17", "Statement": [...] }.',
  }
}

function lintStatement(statement: TrustPolicyStatement, index: number, findings: TrustPolicyFinding[]): void {
  if (statement.Effect !== 'Allow') return
  const add = (finding: Omit<TrustPolicyFinding, 'statement'>): void => {
    findings.push({ ...finding, statement: index })
  }
  const principal = statement.Principal
  const federated = principalValues(principal, 'Federated')
  const services = principalValues(principal, 'Service')
  const actions = list(statement.Action).map((action) => action.toLowerCase())
  if (principal === '*' || principalValues(principal, 'AWS').includes('*') || federated.includes('*')) {
    add({
      code: 'WILDCARD_PRINCIPAL',
      severity: 'error',
      message: 'The principal is "*": any identity may assume this role.',
      fix: 'Name the IAM OIDC provider (Federated) for IRSA, or the pods.eks.amazonaws.com service for Pod Identity.',
    })
  }
  const conditions = conditionEntries(statement.Condition)
  if (services.includes(POD_IDENTITY_PRINCIPAL)) {
    const hasAssume = actions.some((a) => a === 'sts:assumerole' || a === 'sts:*' || a === '*')
    const hasTag = actions.some((a) => a === 'sts:tagsession' || a === 'sts:*' || a === '*')
    if (!hasAssume || !hasTag) {
      add({
        code: 'POD_IDENTITY_ACTIONS',
        severity: 'error',
        message:
          'A Pod Identity trust must allow both sts:AssumeRole and sts:TagSession; EKS Auth tags every session.',
        fix: 'Set "Action": ["sts:AssumeRole", "sts:TagSession"].',
      })
    }
    for (const entry of conditions) {
      if (entry.key.endsWith(':aud')) {
        add({
          code: 'WRONG_AUDIENCE',
          severity: 'error',
          message: `An ${entry.key} condition on a Pod Identity trust never matches: EKS Pod Identity does not pass a web identity token to STS.`,
          fix: 'Drop the :aud/:sub conditions; scope Pod Identity with the association (namespace and service account) and aws:RequestTag conditions if needed.',
        })
      }
    }
    return
  }
  const isIrsa =
    federated.some((arn) => arn.includes(':oidc-provider/')) ||
    actions.includes('sts:assumerolewithwebidentity')
  if (!isIrsa) {
    if (services.some((service) => service !== POD_IDENTITY_PRINCIPAL && service.startsWith('pods.eks'))) {
      add({
        code: 'WRONG_AUDIENCE',
        severity: 'error',
        message: `The service principal ${services.join(', ')} is not the Pod Identity principal.`,
        fix: `Use "Service": "${POD_IDENTITY_PRINCIPAL}".`,
      })
    }
    return
  }
  if (services.length > 0 && federated.length === 0) {
    add({
      code: 'WRONG_AUDIENCE',
      severity: 'error',
      message:
        'sts:AssumeRoleWithWebIdentity is granted to a service principal; IRSA trusts a federated OIDC provider.',
      fix: 'Use "Principal": { "Federated": "arn:aws:iam::<account>:oidc-provider/<issuer>" }.',
    })
  }
  const subs = conditions.filter((entry) => entry.key.endsWith(':sub'))
  const auds = conditions.filter((entry) => entry.key.endsWith(':aud'))
  if (subs.length === 0) {
    add({
      code: 'MISSING_SUB',
      severity: 'error',
      message: 'No <issuer>:sub condition: every service account in the cluster may assume this role.',
      fix: 'Add "StringEquals": { "<issuer>:sub": "system:serviceaccount:<namespace>:<name>" }.',
    })
  }
  for (const entry of subs) {
    const wildcard = entry.values.some(hasWildcard)
    if (isLikeOperator(entry.operator) && wildcard) {
      add({
        code: 'WILDCARD_SUB',
        severity: 'error',
        message: `${entry.operator} ${entry.key} = ${entry.values.join(', ')} matches other service accounts' tokens too.`,
        fix: 'Use "StringEquals" with the exact "system:serviceaccount:<namespace>:<name>".',
      })
    } else if (wildcard) {
      add({
        code: 'WILDCARD_SUB',
        severity: 'warning',
        message: `${entry.operator} ${entry.key} = ${entry.values.join(', ')} compares "*" and "?" literally and matches no token; it was probably meant as a wildcard.`,
        fix: 'Use "StringEquals" with the exact "system:serviceaccount:<namespace>:<name>".',
      })
    }
  }
  if (auds.length === 0) {
    add({
      code: 'MISSING_AUD',
      severity: 'error',
      message: `No <issuer>:aud condition: a token minted for another audience (a Vault or Pod Identity token of the same cluster) can be replayed to assume this role.`,
      fix: `Add "StringEquals": { "<issuer>:aud": "${IRSA_AUDIENCE}" }.`,
    })
  }
  for (const entry of auds) {
    const wrong = entry.values.filter((value) => !hasWildcard(value) && value !== IRSA_AUDIENCE)
    if (wrong.length > 0) {
      add({
        code: 'WRONG_AUDIENCE',
        severity: 'error',
        message: `${entry.key} = ${wrong.join(', ')}: IRSA tokens carry the audience ${IRSA_AUDIENCE}${wrong.includes(POD_IDENTITY_PRINCIPAL) ? ` (${POD_IDENTITY_PRINCIPAL} is the Pod Identity token's audience, and Pod Identity roles trust the service principal instead)` : ''}.`,
        fix: `Set "${entry.key}": "${IRSA_AUDIENCE}".`,
      })
    }
    if (isLikeOperator(entry.operator) && entry.values.some(hasWildcard)) {
      add({
        code: 'WRONG_AUDIENCE',
        severity: 'error',
        message: `${entry.operator} ${entry.key} = ${entry.values.join(', ')} accepts tokens minted for other audiences.`,
        fix: `Use "StringEquals": { "${entry.key}": "${IRSA_AUDIENCE}" }.`,
      })
    }
  }
  for (const entry of [...subs, ...auds]) {
    if (isLikeOperator(entry.operator) && !entry.values.some(hasWildcard)) {
      add({
        code: 'STRING_LIKE_WITHOUT_WILDCARD',
        severity: 'warning',
        message: `${entry.operator} on ${entry.key} has no wildcard; StringEquals says the same and cannot be widened by accident.`,
        fix: `Move ${entry.key} under "StringEquals".`,
      })
    }
  }
}

interface ConditionEntry {
  operator: string
  key: string
  values: string[]
}

function conditionEntries(condition: unknown): ConditionEntry[] {
  if (typeof condition !== 'object' || condition === null) return []
  const entries: ConditionEntry[] = []
  for (const [operator, block] of Object.entries(condition)) {
    if (typeof block !== 'object' || block === null) continue
    for (const [key, value] of Object.entries(block)) {
      // IAM condition keys are case-insensitive.
      entries.push({ operator, key: key.toLowerCase(), values: list(value) })
    }
  }
  return entries
}

function isLikeOperator(operator: string): boolean {
  return /StringLike/i.test(operator)
}

function hasWildcard(value: string): boolean {
  return value.includes('*') || value.includes('?')
}

function principalValues(principal: unknown, kind: string): string[] {
  if (typeof principal !== 'object' || principal === null) return []
  return list((principal as Record<string, unknown>)[kind])
}

function list(value: unknown): string[] {
  if (typeof value === 'string') return [value]
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string')
  return []
}
