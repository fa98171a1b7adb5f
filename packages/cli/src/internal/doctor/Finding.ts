/**
 * How bad a finding is: `error` (this is why there are no credentials, or will be none soon),
 * `warning` (credentials work, but something is off), `ok` (checked and fine).
 */
export type Severity = 'error' | 'warning' | 'ok'

/**
 * One result of one doctor check (issue #21). Exactly this shape: `doctor --json` prints a list of
 * them as `findings`, the text output renders the same list, and every check (the IMDS check of
 * issue #17 included) returns them. Never carries a secret.
 */
export interface Finding {
  /** The check that found it, e.g. `token`, `chain`, `pod`. */
  check: string
  severity: Severity
  /** What was found, one sentence. */
  message: string
  /** What to do about it; only where there is something to do. */
  fix?: string
}
