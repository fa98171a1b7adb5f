import { scrub } from '@podcreds/core'
import type { Io } from '../output.js'
import { line, pairs, style } from '../output.js'
import type { DoctorReport } from './runDoctor.js'
import { tokenSections } from './tokenSections.js'

/**
 * doctor's text output: the facts (environment, chain, tokens), then the findings — the same
 * list `--json` prints — each with its fix, then a one-line tally.
 */
export function renderDoctor({ facts, findings }: DoctorReport, io: Io): void {
  const s = style(io)
  const out = (text = ''): void => line(io.stdout, text)
  out(s.bold('environment'))
  const environment = Object.entries(facts.environment)
  out(environment.length === 0 ? '  (no AWS or Azure variables set)' : pairs(environment))
  const links = facts.chain.explanation?.links ?? []
  if (links.length > 0) {
    out()
    out(s.bold('chain'))
    for (const link of links) {
      const mark =
        link.status === 'chosen'
          ? s.green('chosen     ')
          : link.status === 'failed'
            ? s.red('failed     ')
            : link.status === 'skipped'
              ? s.dim('skipped    ')
              : s.dim('not reached')
      out(`  ${mark} ${link.name.padEnd(12)} ${scrub(link.reason, [], 2_000)}`)
    }
  }
  for (const token of tokenSections(facts)) {
    out()
    out(s.bold(`token (${token.purpose}) ${scrub(token.file, [], 512)}`))
    out(
      token.claims === undefined
        ? `  ${s.red(token.error ?? 'unreadable')}`
        : pairs(Object.entries(token.claims)),
    )
  }
  out()
  out(s.bold('findings'))
  const width = Math.max(0, ...findings.map((finding) => finding.check.length))
  for (const finding of findings) {
    const mark =
      finding.severity === 'error'
        ? s.red('error  ')
        : finding.severity === 'warning'
          ? s.yellow('warning')
          : s.green('ok     ')
    out(`  ${mark} ${finding.check.padEnd(width)}  ${finding.message}`)
    if (finding.fix !== undefined) out(`          ${' '.repeat(width)}  fix: ${finding.fix}`)
  }
  const errors = findings.filter((finding) => finding.severity === 'error').length
  const warnings = findings.filter((finding) => finding.severity === 'warning').length
  out()
  if (errors === 0 && warnings === 0) out(s.green('no problems found'))
  else
    out(
      `${errors === 0 ? '' : s.red(`${errors} error${errors === 1 ? '' : 's'}`)}${errors > 0 && warnings > 0 ? ', ' : ''}${warnings === 0 ? '' : s.yellow(`${warnings} warning${warnings === 1 ? '' : 's'}`)}`,
    )
}
