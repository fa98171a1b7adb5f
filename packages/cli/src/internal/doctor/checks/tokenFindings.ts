import { scrub } from '@podcreds/core'
import { relative } from '../../output.js'
import { tokenProblems, tokenReadProblem } from '../../tokenReport.js'
import type { TokenFact } from '../DoctorFacts.js'
import type { Finding } from '../Finding.js'

/**
 * The findings of one token file: why it cannot be read or decoded, or what is wrong with it
 * (expired, rotation overdue, not yet valid, wrong audience), each with its own fix; or one `ok`.
 * The chain check asks this too, so a link that fails because of its token is not reported twice.
 */
export function tokenFindings(token: TokenFact, now: number): Finding[] {
  if (token.error !== undefined) {
    return [{ check: 'token', ...tokenReadProblem(token.error.code, token.error.message, token.variable) }]
  }
  const info = token.info
  if (info === undefined) return []
  const problems = tokenProblems(info, token.purpose, token.file)
  if (problems.length > 0) return problems.map((problem) => ({ check: 'token', ...problem }))
  const account = info.serviceAccount
  const who =
    account === undefined ? '' : ` for service account ${printable(`${account.namespace}/${account.name}`)}`
  const expiry =
    info.expiresAt === undefined ? 'no expiry' : `expires ${relative(info.expiresAt.getTime() - now)}`
  return [
    {
      check: 'token',
      severity: 'ok',
      message: `the ${token.purpose} token in ${token.file} is well-formed${who}: audience ${printable(info.audiences.join(', ')) || '(none)'}, ${expiry}`,
    },
  ]
}

/** Whether this token has an error finding: the cause of its link's failure, already reported. */
export function tokenHasError(token: TokenFact | undefined, now: number): boolean {
  return token !== undefined && tokenFindings(token, now).some((finding) => finding.severity === 'error')
}

// Claims are outside text: no control characters reach a terminal (as tokenSummary does).
const printable = (text: string): string => scrub(text, [], 512)
