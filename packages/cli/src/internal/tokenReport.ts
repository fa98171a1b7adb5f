import { scrub } from '@podcreds/core'
import type { TokenInspection } from '@podcreds/token'
import { relative } from './output.js'

/** A problem the CLI found, with the fix it suggests. */
export interface Problem {
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

export function tokenProblems(
  info: TokenInspection,
  purpose: TokenPurpose | undefined,
  file: string,
): Problem[] {
  const problems: Problem[] = []
  if (info.expired) {
    problems.push({
      message: `the token in ${file} expired at ${info.expiresAt?.toISOString()}`,
      fix: 'kubelet rotates projected tokens: check that the volume is a projected serviceAccountToken mount and that the pod was not copied a token by hand; restart the pod to get a fresh one',
    })
  } else if (info.rotationOverdue) {
    problems.push({
      message: `the token in ${file} should have been rotated at ${info.rotationDueAt?.toISOString()}`,
      fix: 'check kubelet on this node, and that the file is read through its ..data symlink and not copied',
    })
  }
  if (info.notYetValid) {
    problems.push({
      message: `the token in ${file} is not valid yet (nbf in the future)`,
      fix: "check this node's clock (NTP)",
    })
  }
  if (purpose !== undefined) {
    const expected = EXPECTED_AUDIENCE[purpose]
    if (!info.audiences.includes(expected)) {
      problems.push({
        message: `the token in ${file} has audience ${printable(info.audiences.join(', ')) || '(none)'}, but ${purpose} needs ${expected}`,
        fix: `set the projected volume's audience to ${expected} (the EKS webhook does this for ${purpose === 'irsa' ? 'eks.amazonaws.com/role-arn' : 'Pod Identity'} service accounts)`,
      })
    }
  }
  return problems
}
