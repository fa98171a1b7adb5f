import type { Clock, Random } from '@podcreds/core'
import { isRegion } from './validate.js'

/**
 * The calling AWS SDK client's region: the SDK passes `{ callerClientConfig: { region } }` to
 * credential providers, the region being a string or a provider function.
 */
export async function callerRegionOf(identityProperties: unknown): Promise<string | undefined> {
  const callerConfig = (identityProperties as { callerClientConfig?: unknown } | undefined)
    ?.callerClientConfig
  if (typeof callerConfig !== 'object' || callerConfig === null) return undefined
  const region = (callerConfig as { region?: unknown }).region
  let value: unknown = region
  if (typeof region === 'function') {
    try {
      value = await (region as () => unknown)()
    } catch {
      return undefined
    }
  }
  return typeof value === 'string' && isRegion(value) ? value : undefined
}

/** STS accepts [\w+=,.@-]{2,64}; "podcreds-" + 13 digits + "-" + 8 hex digits is 31 characters. */
export function generateSessionName(clock: Clock, random: Random): string {
  const suffix = Math.floor(random() * 0x1_0000_0000)
    .toString(16)
    .padStart(8, '0')
  return `podcreds-${Math.floor(clock.now())}-${suffix}`
}
