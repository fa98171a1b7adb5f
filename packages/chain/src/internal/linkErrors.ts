import { CredentialsError, scrub } from '@podcreds/core'

// The AWS SDK's default chain ends with this error, `tryNextLink: false`, when none of its own
// links found anything (credential-provider-node `defaultProvider`). For us that means "the SDK
// found nothing here", i.e. not configured (DESIGN "@podcreds/chain").
const SDK_NOTHING_FOUND = 'Could not load credentials from any providers'

/**
 * Whether a chain may move on past `error`: a `CredentialsError` or the AWS SDK's
 * `ProviderError` / `CredentialsProviderError` with `tryNextLink: true`, or the SDK default
 * chain's final "found nothing" error.
 */
export function mayTryNextLink(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  if ((error as { tryNextLink?: unknown }).tryNextLink === true) return true
  return isSdkNothingFound(error)
}

/** Whether `error` is the AWS SDK default chain's "Could not load credentials from any providers". */
export function isSdkNothingFound(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  return (
    (error.name === 'CredentialsProviderError' || error.name === 'ProviderError') &&
    error.message.startsWith(SDK_NOTHING_FOUND)
  )
}

/** A one-line, capped, control-character-free reason for a link's failure. */
export function reasonOf(error: unknown): string {
  if (error instanceof Error) return oneLine(error.message === '' ? error.name : error.message)
  return oneLine(typeof error === 'string' ? error : `threw a non-error value (${typeof error})`)
}

/**
 * {@link reasonOf}, without a leading `<link name>: ` that the error's own message starts with
 * (`env: neither … is set` listed under `env`).
 */
export function reasonFor(name: string, error: unknown): string {
  return withoutName(name, reasonOf(error))
}

/** `text` without a leading `<name>: `. */
export function withoutName(name: string, text: string): string {
  return text.startsWith(`${name}: `) ? text.slice(name.length + 2) : text
}

/** The code-ish facts of an error for `explain()` details; never a message body beyond the reason. */
export function errorDetails(error: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  if (error instanceof CredentialsError) {
    out['code'] = error.code
    if (error.status !== undefined) out['status'] = String(error.status)
    if (error.stsCode !== undefined) out['stsCode'] = error.stsCode
  } else if (error instanceof Error) {
    out['error'] = error.name
  }
  return out
}

function oneLine(text: string): string {
  return scrub(text.replace(/\s*\n\s*/g, ' ').trim(), [], 300)
}
