import { scrub } from '@podcreds/core'
import type { Check } from './Check.js'
import { checkAzure } from './checks/checkAzure.js'
import { checkChain } from './checks/checkChain.js'
import { checkEndpoints } from './checks/checkEndpoints.js'
import { checkEnvironment } from './checks/checkEnvironment.js'
import { checkInstanceMetadata } from './checks/checkInstanceMetadata.js'
import { checkPod } from './checks/checkPod.js'
import { checkTokens } from './checks/checkTokens.js'
import type { DoctorFacts, DoctorOptions } from './DoctorFacts.js'
import type { Finding } from './Finding.js'
import { gatherFacts } from './gatherFacts.js'
import { PROBE_BUDGET_MS } from './probeBudget.js'
import { withDeadline } from './withDeadline.js'

/** Doctor's checks, in the order their findings are listed. */
export const CHECKS: readonly Check[] = [
  checkPod,
  checkEnvironment,
  checkTokens,
  checkChain,
  checkEndpoints,
  checkInstanceMetadata,
  checkAzure,
]

/** What doctor found: the facts it gathered and the findings of every check. */
export interface DoctorReport {
  facts: DoctorFacts
  findings: Finding[]
}

/**
 * Gathers the facts (one walk of the chain), then runs every check. A check that throws or
 * overruns its budget is a finding of its own: doctor always finishes and always reports.
 */
export async function runDoctor(
  options: DoctorOptions,
  checks: readonly Check[] = CHECKS,
): Promise<DoctorReport> {
  const facts = await gatherFacts(options)
  const findings: Finding[] = []
  for (const check of checks) {
    try {
      const ran = await withDeadline(Promise.resolve(check.run(facts)), PROBE_BUDGET_MS)
      if (ran.done) findings.push(...ran.value.map(printableFinding))
      else {
        findings.push({
          check: check.name,
          severity: 'error',
          message: `the ${check.name} check did not finish within ${PROBE_BUDGET_MS / 1000} s`,
        })
      }
    } catch (error) {
      // Not a CredentialsError by contract: scrubbed of control characters and capped.
      const reason = scrub(error instanceof Error ? error.message : String(error), [], 300)
      findings.push({
        check: check.name,
        severity: 'error',
        message: `the ${check.name} check failed: ${reason}`,
      })
    }
  }
  return { facts, findings }
}

// Findings quote outside text — file paths and URLs from the environment, token claims, server
// answers — and go to terminals and log lines: no control characters (no forged lines, no
// escape sequences), whatever a check forgot.
function printableFinding(finding: Finding): Finding {
  const out: Finding = {
    check: finding.check,
    severity: finding.severity,
    message: scrub(finding.message, [], 2_000),
  }
  if (finding.fix !== undefined) out.fix = scrub(finding.fix, [], 2_000)
  return out
}
