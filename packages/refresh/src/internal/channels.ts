import type { Channel } from 'node:diagnostics_channel'
import { channel } from 'node:diagnostics_channel'

/** The event types, one diagnostics channel each: `podcreds:refresh:<type>`. */
export type RefreshEventType = 'start' | 'success' | 'unchanged' | 'failure' | 'stale'

let channels: Record<RefreshEventType, Channel> | undefined

/**
 * The `podcreds:refresh:*` channels, created on first use rather than at import (import-time
 * work is zero, DESIGN.md "Conventions"). `channel()` returns the same object per name, so
 * subscribers attached before or after this call all see the events.
 */
export function refreshChannels(): Record<RefreshEventType, Channel> {
  channels ??= {
    start: channel('podcreds:refresh:start'),
    success: channel('podcreds:refresh:success'),
    unchanged: channel('podcreds:refresh:unchanged'),
    failure: channel('podcreds:refresh:failure'),
    stale: channel('podcreds:refresh:stale'),
  }
  return channels
}
