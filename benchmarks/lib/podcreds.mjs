// Loads the BUILT podcreds packages (dist/, via the workspace links) and says what is missing,
// so a scenario can report "not built yet" instead of crashing while packages are in progress.
import { tryImport } from './util.mjs'

/**
 * Returns `{ value, missing }`: the named export of `specifier`, or why it is not available
 * (package not built, or the export does not exist yet).
 */
export async function load(specifier, name) {
  const { mod, error } = await tryImport(specifier)
  if (!mod) return { value: null, missing: `${specifier} not importable (${error})` }
  const value = mod[name]
  if (typeof value !== 'function') return { value: null, missing: `${specifier} has no ${name}() yet` }
  return { value, missing: null }
}

export const refreshing = () => load('@podcreds/refresh', 'refreshing')
export const sharedProvider = () => load('@podcreds/refresh/shared', 'sharedProvider')
export const decodeToken = () => load('@podcreds/token', 'decodeToken')
export const fromContainer = () => load('@podcreds/container', 'fromContainer')
export const fromWebIdentity = () => load('@podcreds/web-identity', 'fromWebIdentity')
export const fromAssumeRole = () => load('@podcreds/sts', 'fromAssumeRole')
export const defaultChain = () => load('@podcreds/chain', 'defaultChain')
export const startEmulator = () => load('@podcreds/emulator', 'startEmulator')
export const CredentialsError = () => load('@podcreds/core', 'CredentialsError')
