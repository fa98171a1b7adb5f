import { mayTryNextLink } from './linkErrors.js'

/** What happened to one link in a walk. */
export interface WalkStep {
  index: number
  outcome: 'chosen' | 'skipped' | 'failed'
  error?: unknown
}

/** The end of a walk: the value of the chosen link, or the error that stopped it, or neither (all skipped). */
export interface WalkResult<T> {
  /** In the order the links were tried. */
  steps: WalkStep[]
  chosen?: { index: number; value: T }
  failed?: { index: number; error: unknown }
}

/**
 * The one walk of a chain (issue 17: `explain()` uses it too, rather than a copy): try `start`
 * first when given, then every other link in order; a link that rejects with `tryNextLink` (or
 * the AWS SDK chain's "found nothing", see `mayTryNextLink`) is skipped, any other rejection stops
 * the walk, the first success ends it.
 */
export async function walk<T>(
  count: number,
  attempt: (index: number) => Promise<T>,
  start?: number,
): Promise<WalkResult<T>> {
  const steps: WalkStep[] = []
  const order = start === undefined ? [] : [start]
  for (let index = 0; index < count; index++) if (index !== start) order.push(index)
  for (const index of order) {
    try {
      const value = await attempt(index)
      steps.push({ index, outcome: 'chosen' })
      return { steps, chosen: { index, value } }
    } catch (error) {
      if (!mayTryNextLink(error)) {
        steps.push({ index, outcome: 'failed', error })
        return { steps, failed: { index, error } }
      }
      steps.push({ index, outcome: 'skipped', error })
    }
  }
  return { steps }
}
