import { scrub } from '@podcreds/core'
import { tokenSummary } from '../tokenReport.js'
import type { DoctorFacts } from './DoctorFacts.js'

/** A token file as doctor shows it: its claims (never the token), or why it could not be read. */
export interface TokenSummaryOrError {
  purpose: string
  variable: string
  file: string
  claims?: Record<string, string>
  error?: string
}

/** The token files of the facts, for display. */
export function tokenSections(facts: DoctorFacts): TokenSummaryOrError[] {
  return facts.tokens.map((token) => {
    const base = { purpose: token.purpose, variable: token.variable, file: scrub(token.file, [], 512) }
    if (token.info !== undefined) return { ...base, claims: tokenSummary(token.info, facts.now) }
    return {
      ...base,
      error: scrub(
        `${token.error?.message ?? 'unreadable'} [${token.error?.code ?? 'ERR_TOKEN_FILE'}]`,
        [],
        1_000,
      ),
    }
  })
}
