// Vitest setup (vitest.config.ts `setupFiles`): the network guard of test/support/networkGuard.mjs
// in every test worker. A test during which a connection to a non-loopback address was attempted
// fails after it ran, naming the address (the connection itself was never made).
import { afterEach } from 'vitest'
import { installNetworkGuard, takeViolations } from './networkGuard.mjs'

installNetworkGuard()

afterEach(() => {
  const violations = takeViolations()
  if (violations.length > 0) throw new Error(violations.join('\n'))
})
