import type { TrustPolicy, TrustPolicyStatement } from '../TrustPolicy.js'

/** The request IAM evaluates a role's trust policy against. */
export interface TrustRequest {
  /** `sts:AssumeRoleWithWebIdentity` or `sts:AssumeRole`. */
  actions: readonly string[]
  /**
   * The principal asking, e.g. `{ Federated: 'arn:aws:iam::…:oidc-provider/…' }`; for `AWS`, every
   * spelling IAM matches the caller by (its role ARN, its account's `:root`, the bare account id).
   */
  principal: { kind: 'Federated' | 'Service' | 'AWS'; value: string | readonly string[] }
  /** Condition context keys, lowercase (`<issuer>:sub`, `<issuer>:aud`). */
  context: Readonly<Record<string, string>>
}

/**
 * A small IAM trust-policy evaluator: an explicit `Deny` wins, otherwise some `Allow` statement
 * must match the principal, every requested action and all of its conditions. Supports the
 * string operators trust policies use (`StringEquals`, `StringNotEquals`, `StringEqualsIgnoreCase`,
 * `StringLike`, `StringNotLike`, with `IfExists` and `ForAnyValue:`/`ForAllValues:`); an
 * unknown operator never matches, so the emulator errs on the side of denying.
 */
export function evaluateTrustPolicy(policy: TrustPolicy, request: TrustRequest): boolean {
  const statements = Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement]
  let allowed = false
  for (const statement of statements) {
    if (!matches(statement, request)) continue
    if (statement.Effect === 'Deny') return false
    if (statement.Effect === 'Allow') allowed = true
  }
  return allowed
}

function matches(statement: TrustPolicyStatement, request: TrustRequest): boolean {
  const principal = statement.Principal
  const principals =
    principal === '*'
      ? ['*']
      : typeof principal === 'object' && principal !== null
        ? list(principal[request.principal.kind])
        : []
  const asking =
    typeof request.principal.value === 'string' ? [request.principal.value] : request.principal.value
  if (!principals.some((value) => value === '*' || asking.includes(value))) return false
  const actions = list(statement.Action)
  const allActions = request.actions.every((wanted) =>
    actions.some((action) => like(wanted.toLowerCase(), action.toLowerCase())),
  )
  if (!allActions) return false
  return conditionsHold(statement.Condition, request.context)
}

function conditionsHold(
  condition: TrustPolicyStatement['Condition'],
  context: TrustRequest['context'],
): boolean {
  if (condition === undefined) return true
  for (const [rawOperator, block] of Object.entries(condition)) {
    for (const [rawKey, rawValues] of Object.entries(block)) {
      if (!conditionHolds(rawOperator, context[rawKey.toLowerCase()], list(rawValues))) return false
    }
  }
  return true
}

function conditionHolds(rawOperator: string, actual: string | undefined, expected: string[]): boolean {
  let operator = rawOperator
  operator = operator.replace(/^For(Any|All)Values:/i, '')
  const ifExists = /IfExists$/i.test(operator)
  operator = operator.replace(/IfExists$/i, '')
  if (actual === undefined) return ifExists || /^StringNot/i.test(operator)
  switch (operator.toLowerCase()) {
    case 'stringequals':
      return expected.includes(actual)
    case 'stringnotequals':
      return !expected.includes(actual)
    case 'stringequalsignorecase':
      return expected.some((value) => value.toLowerCase() === actual.toLowerCase())
    case 'stringnotequalsignorecase':
      return !expected.some((value) => value.toLowerCase() === actual.toLowerCase())
    case 'stringlike':
      return expected.some((pattern) => like(actual, pattern))
    case 'stringnotlike':
      return !expected.some((pattern) => like(actual, pattern))
    default:
      return false
  }
}

/** IAM's `StringLike`: `*` any run of characters, `?` exactly one; everything else literal. */
function like(value: string, pattern: string): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\*?]/g, (char) =>
    char === '*' ? '.*' : char === '?' ? '.' : `\\${char}`,
  )
  return new RegExp(`^${source}$`, 's').test(value)
}

function list(value: unknown): string[] {
  if (typeof value === 'string') return [value]
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string')
  return []
}
