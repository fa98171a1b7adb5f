import { scrub } from '@podcreds/core'
import type { TokenInspection } from '@podcreds/token'
import { relative } from './output.js'

/** A problem the CLI found, with the fix it suggests. */
export interface Problem {
  /** `error`: this token cannot work; `warning`: it works, but something is off. */
  severity: 'error' | 'warning'
  message: string
  fix: string
}

/** The audience each AWS path expects of its projected token. */
export const EXPECTED_AUDIENCE = {
  irsa: 'sts.amazonaws.com',
  'pod-identity': 'pods.eks.amazonaws.com',
  aks: 'api://AzureADTokenExchange',
} as const

export type TokenPurpose = keyof typeof EXPECTED_AUDIENCE

// Claims are the token's text, and `token inspect` is pointed at tokens from anywhere: control
// characters (terminal escapes, line breaks that forge output lines) are blanked before printing.
const printable = (text: string): string => scrub(text, [], 512)

/** Claims only — never the token text. */
export function tokenSummary(info: TokenInspection, now: number): Record<string, string> {
  const out: Record<string, string> = {}
  if (info.issuer !== undefined) out.issuer = printable(info.issuer)
  if (info.subject !== undefined) out.subject = printable(info.subject)
  out.audiences = printable(info.audiences.join(', ')) || '(none)'
  if (info.serviceAccount !== undefined) {
    out.serviceAccount = printable(`${info.serviceAccount.namespace}/${info.serviceAccount.name}`)
  }
  if (info.pod !== undefined) out.pod = printable(info.pod.name)
  if (info.node !== undefined) out.node = printable(info.node.name)
  if (info.issuedAt !== undefined) out.issuedAt = info.issuedAt.toISOString()
  if (info.expiresAt !== undefined) {
    out.expiresAt = `${info.expiresAt.toISOString()} (${relative(info.expiresAt.getTime() - now)})`
  }
  if (info.rotationDueAt !== undefined) {
    out.rotationDueAt = `${info.rotationDueAt.toISOString()} (${relative(info.rotationDueAt.getTime() - now)})`
  }
  out.algorithm = printable(info.header.alg)
  if (info.header.kid !== undefined) out.keyId = printable(info.header.kid)
  return out
}

// Who writes the token with the right audience, per path: the webhook of each platform (issue #21:
// `token inspect --purpose aks` speaks of AKS's webhook, not EKS's).
const AUDIENCE_FIX: Record<TokenPurpose, string> = {
  irsa: "the EKS Pod Identity webhook projects it with audience sts.amazonaws.com for pods whose service account has the eks.amazonaws.com/role-arn annotation; a hand-written projected serviceAccountToken volume needs 'audience: sts.amazonaws.com'",
  'pod-identity':
    "the EKS Pod Identity webhook projects it with audience pods.eks.amazonaws.com for pods whose service account has a Pod Identity association; a hand-written projected serviceAccountToken volume needs 'audience: pods.eks.amazonaws.com'",
  aks: 'the Azure Workload Identity webhook projects it with audience api://AzureADTokenExchange for pods labelled azure.workload.identity/use: "true"; a hand-written projected serviceAccountToken volume needs \'audience: api://AzureADTokenExchange\'',
}

/** What is wrong with a decoded token, each with its own fix (one cause, one problem). */
export function tokenProblems(
  info: TokenInspection,
  purpose: TokenPurpose | undefined,
  file: string,
): Problem[] {
  const problems: Problem[] = []
  if (info.expired) {
    problems.push({
      severity: 'error',
      message: `the token in ${file} expired at ${info.expiresAt?.toISOString()}`,
      fix: "kubelet rewrites a projected serviceAccountToken volume before 80 % of the token's lifetime: check that this path is that volume (mounted, read through its ..data symlink, not a copy of the token) and that kubelet on this node is healthy; a restarted pod gets a fresh token",
    })
  } else if (info.rotationOverdue) {
    problems.push({
      severity: 'warning',
      message: `the token in ${file} should have been rotated at ${info.rotationDueAt?.toISOString()}`,
      fix: 'check kubelet on this node, and that the file is read through its ..data symlink and not copied',
    })
  }
  if (info.notYetValid) {
    problems.push({
      severity: 'error',
      message: `the token in ${file} is not valid yet (nbf in the future)`,
      fix: "check this node's clock (NTP)",
    })
  }
  if (purpose !== undefined) {
    const expected = EXPECTED_AUDIENCE[purpose]
    if (!info.audiences.includes(expected)) {
      problems.push({
        severity: 'error',
        message: `the token in ${file} has audience ${printable(info.audiences.join(', ')) || '(none)'}, but ${purpose} needs ${expected}`,
        fix: AUDIENCE_FIX[purpose],
      })
    }
  }
  return problems
}

/** The problem of a token file that cannot be read (`ERR_TOKEN_FILE`) or is not a JWT. */
export function tokenReadProblem(code: string, message: string, name: string): Problem {
  return {
    severity: 'error',
    message: `${name}: ${message} [${code}]`,
    fix:
      code === 'ERR_TOKEN_FILE'
        ? `${name} names a file this user cannot read: check the projected volume mount (kubectl describe pod: volumes and volumeMounts), the path, and that the container user may read it`
        : `${name} must name the projected service-account token (a JWT: three dot-separated parts), not another file: check the variable and the volume's path`,
  }
}
