import type { DoctorReport } from './runDoctor.js'
import type { TokenSummaryOrError } from './tokenSections.js'
import { tokenSections } from './tokenSections.js'

/**
 * `doctor --json`: `findings` is the answer (the same list the text output renders); the rest
 * are the facts behind it. `ok` is true when no finding is an error. `problems`/`warnings` of
 * earlier versions are gone: filter `findings` by `severity` (the CLI was not published yet).
 */
export function reportJson({ facts, findings }: DoctorReport): Record<string, unknown> {
  const explanation = facts.chain.explanation
  const chosen = explanation?.links.find((link) => link.name === explanation.chosen)
  const credentials =
    chosen === undefined
      ? null
      : {
          link: chosen.name,
          accessKeyId: chosen.details.accessKeyId ?? null,
          expiresAt: chosen.details.expiration ?? null,
          accountId: chosen.details.accountId ?? null,
        }
  const tokens: TokenSummaryOrError[] = tokenSections(facts)
  return {
    ok: !findings.some((finding) => finding.severity === 'error'),
    findings,
    chosen: explanation?.chosen ?? null,
    credentials,
    pod: facts.pod,
    links: explanation?.links ?? [],
    environment: facts.environment,
    tokens,
    azure: facts.azure ?? null,
  }
}
