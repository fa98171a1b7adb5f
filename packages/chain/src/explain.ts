import type { AwsCredentialIdentity, SourceDescription } from '@podcreds/core'
import { CredentialsError, redactKeyId, scrub } from '@podcreds/core'
import type { DefaultChainOptions, LinkName } from './defaultChain.js'
import type { DefaultLink } from './internal/defaultLinks.js'
import { buildDefaultLinks } from './internal/defaultLinks.js'
import { errorDetails, reasonFor, withoutName } from './internal/linkErrors.js'
import { walk } from './internal/walk.js'

/**
 * What happened to one link: `chosen` (it produced, or in a dry run would produce, the
 * credentials), `skipped` (not configured here), `failed` (configured but broken: it stopped the
 * chain), `not-reached` (an earlier link was chosen or failed).
 */
export type LinkStatus = 'chosen' | 'skipped' | 'failed' | 'not-reached'

/** One link in an {@link Explanation}. Never carries a secret. */
export interface ExplainedLink {
  /** The link. */
  name: LinkName
  /** What happened to it. */
  status: LinkStatus
  /** One human sentence: why. */
  reason: string
  /**
   * Facts: endpoint, token file, role ARN, token claims, the error code; in full mode, the
   * chosen link's redacted key id (`ASIA…WXYZ`), `expiration` and `accountId`.
   */
  details: Record<string, string>
}

/** The answer of {@link explain}: which link was chosen and what happened to each. */
export interface Explanation {
  /** The link that produced (dry run: would produce) the credentials, if any. */
  chosen?: LinkName
  /** Whether this was a dry run (configuration only, nothing sent). */
  dryRun: boolean
  /** Every link of the default chain, in the order of this environment. */
  links: ExplainedLink[]
  /** A few lines for humans (also what `String(explanation)` gives). */
  toString(): string
}

/**
 * Options of {@link explain}: those of `defaultChain()` (`refresh` is accepted and ignored, so one
 * options object serves both), and `dryRun`. Any other key is a `TypeError`.
 */
export interface ExplainOptions extends DefaultChainOptions {
  /**
   * Only read configuration (each link's `describe()`): no request to an agent, to STS or through
   * the AWS SDK. The SDK fallback, when reached, is reported as what would be tried.
   * @defaultValue false: resolve for real (without caching)
   */
  dryRun?: boolean
}

/**
 * The answer to "why did my pod get these credentials?": runs the default chain once, without
 * caching, with the same options as `defaultChain()`, and reports every link. In full mode it
 * resolves for real and reports the chosen credentials redacted (key id shortened, expiry,
 * account); with `{ dryRun: true }` it reads configuration only. Links after the chosen one are
 * still described (never called), so a pod with both IRSA and Pod Identity set up is told that
 * both were found and which one wins. The SDK fallback is never imported when it is not reached.
 *
 * Never rejects for a link's failure: that link is reported `failed` with its error code.
 *
 * @param options - the options of `defaultChain()` and `dryRun`
 * @returns the {@link Explanation}; `String(explanation)` for humans
 * @throws TypeError when an option is malformed
 * @example
 * ```ts
 * import { explain } from '@podcreds/chain'
 *
 * console.log(String(await explain({ dryRun: true })))
 * ```
 */
export async function explain(options: ExplainOptions = {}): Promise<Explanation> {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object')
  if (options.dryRun !== undefined && typeof options.dryRun !== 'boolean') {
    throw new TypeError('dryRun must be a boolean')
  }
  const dryRun = options.dryRun ?? false
  const built = buildDefaultLinks(options, ['dryRun'])
  const order = built.order().map((name) => built.byName[name])

  // The walk of chain() itself (issue 17: one walk, not a copy): a dry run walks on each link's
  // describe() instead of calling it.
  const described = new Map<number, SourceDescription>()
  const result = await walk(order.length, async (index) => {
    const link = order[index]!
    if (!dryRun) return await link.provider()
    const description = await link.provider.describe()
    described.set(index, description)
    if (!description.configured) {
      throw new CredentialsError(description.reason, { code: 'ERR_NOT_CONFIGURED' })
    }
    return undefined
  })

  const links: ExplainedLink[] = []
  for (const step of result.steps) {
    const link = order[step.index]!
    if (step.outcome === 'failed') links.push(failed(link.name, step.error))
    else if (step.outcome === 'skipped') {
      links.push({
        name: link.name,
        status: 'skipped',
        reason: reasonFor(link.name, step.error),
        details: { ...described.get(step.index)?.details },
      })
    } else if (dryRun) {
      const description = described.get(step.index)!
      links.push({
        name: link.name,
        status: 'chosen',
        reason: withoutName(link.name, description.reason),
        details: { ...description.details },
      })
    } else {
      links.push(await chosenLink(link, result.chosen!.value as AwsCredentialIdentity))
    }
  }
  const stoppedAt = result.chosen?.index ?? result.failed?.index
  if (stoppedAt !== undefined) {
    const stoppedBy = { name: order[stoppedAt]!.name, failed: result.failed !== undefined }
    for (const link of order.slice(stoppedAt + 1)) links.push(await notReached(link, stoppedBy))
  }

  const explanation: Explanation = { dryRun, links, toString: () => render(explanation) }
  if (result.chosen !== undefined) explanation.chosen = order[result.chosen.index]!.name
  // Keep toString out of enumeration (JSON, spreading, deep equality in tests).
  Object.defineProperty(explanation, 'toString', { enumerable: false })
  return explanation
}

async function chosenLink(link: DefaultLink, credentials: AwsCredentialIdentity): Promise<ExplainedLink> {
  // What the configuration says (endpoint, role, token claims), then what came back, redacted.
  let description: SourceDescription | undefined
  try {
    description = await link.provider.describe()
  } catch {
    description = undefined
  }
  const details: Record<string, string> = { ...description?.details }
  details['accessKeyId'] = redactKeyId(credentials.accessKeyId)
  if (credentials.expiration !== undefined) details['expiration'] = credentials.expiration.toISOString()
  if (credentials.accountId !== undefined) details['accountId'] = credentials.accountId
  const got = `resolved ${details['accessKeyId']}${
    credentials.expiration === undefined ? ' (no expiry)' : `, expires ${details['expiration']}`
  }`
  return {
    name: link.name,
    status: 'chosen',
    reason: description?.configured === true ? `${got}; ${withoutName(link.name, description.reason)}` : got,
    details,
  }
}

async function notReached(
  link: DefaultLink,
  stoppedBy: { name: LinkName; failed: boolean },
): Promise<ExplainedLink> {
  const why = stoppedBy.failed ? `${stoppedBy.name} failed first` : `${stoppedBy.name} comes first`
  // Never import the AWS SDK for a link that is not reached (DESIGN "Cold-start budget"). The
  // imds link's describe() sends nothing, so it is described like the others.
  if (link.name === 'sdk')
    return { name: link.name, status: 'not-reached', reason: `not reached: ${why}`, details: {} }
  try {
    const description = await link.provider.describe()
    return {
      name: link.name,
      status: 'not-reached',
      reason: description.configured
        ? `also configured (${withoutName(link.name, description.reason)}), not used: ${why}`
        : `not reached: ${why} (not configured either: ${withoutName(link.name, description.reason)})`,
      details: { ...description.details },
    }
  } catch (error) {
    return {
      name: link.name,
      status: 'not-reached',
      reason: `not reached: ${why} (its configuration is broken too: ${reasonFor(link.name, error)})`,
      details: errorDetails(error),
    }
  }
}

function failed(name: LinkName, error: unknown): ExplainedLink {
  return { name, status: 'failed', reason: reasonFor(name, error), details: errorDetails(error) }
}

function render(explanation: Explanation): string {
  const mode = explanation.dryRun ? 'dry run: configuration only, nothing sent' : 'resolved, not cached'
  const failedLink = explanation.links.find((link) => link.status === 'failed')
  const outcome =
    explanation.chosen !== undefined
      ? `${explanation.chosen} chosen`
      : failedLink !== undefined
        ? `${failedLink.name} failed, no credentials`
        : 'every link skipped, no credentials'
  const width = Math.max(...explanation.links.map((link) => link.name.length))
  const lines = [`podcreds credential chain (${mode}): ${outcome}`]
  explanation.links.forEach((link, index) => {
    lines.push(
      `  ${index + 1}. ${link.name.padEnd(width)}  ${link.status.padEnd(11)}  ${printable(link.reason)}`,
    )
    for (const [key, value] of Object.entries(link.details)) {
      lines.push(`${' '.repeat(width + 7)}${key}: ${printable(value)}`)
    }
  })
  return lines.join('\n')
}

// Details carry text from outside (token claims, file paths, environment values): this output goes
// to terminals and log lines, so control characters (escape sequences, line breaks that forge
// lines) are blanked, as scrub() does for server text.
function printable(text: string): string {
  return scrub(text, [], 2_000)
}
