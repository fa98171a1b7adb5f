// The AWS SDK v3 code the benchmarks drive, unchanged. Two pieces are not exported by their
// packages, so they are taken from the SDK's own shipped files:
// - `memoizeChain` (the cache of `defaultProvider()` in @aws-sdk/credential-provider-node): the
//   package's CJS bundle is evaluated as-is with one extra line that exports the function, so it
//   is the SDK's exact code with its real `require` (see README, "Which SDK code is driven").
// - `memoizeIdentityProvider` / `isIdentityExpired` / `doesIdentityRequireRefresh` from
//   @smithy/core: the second cache layer every SDK client puts around `credentials`
//   (resolveAwsSdkSigV4Config), resolved from credential-provider-node's own dependency tree.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname } from 'node:path'

const require = createRequire(import.meta.url)

export const NODE_PROVIDER_ENTRY = require.resolve('@aws-sdk/credential-provider-node')
const nodeRequire = createRequire(NODE_PROVIDER_ENTRY)

let cached
/** `{ memoizeChain, credentialsTreatedAsExpired, defaultProvider }` of credential-provider-node. */
export function credentialProviderNodeInternals() {
  if (cached) return cached
  const source = readFileSync(NODE_PROVIDER_ENTRY, 'utf8')
  const module = { exports: {} }
  const factory = new Function(
    'exports',
    'require',
    'module',
    '__filename',
    '__dirname',
    `${source}\n;exports.__memoizeChain = memoizeChain;`,
  )
  factory(module.exports, nodeRequire, module, NODE_PROVIDER_ENTRY, dirname(NODE_PROVIDER_ENTRY))
  cached = {
    memoizeChain: module.exports.__memoizeChain,
    credentialsTreatedAsExpired: module.exports.credentialsTreatedAsExpired,
    credentialsWillNeedRefresh: module.exports.credentialsWillNeedRefresh,
  }
  if (typeof cached.memoizeChain !== 'function') throw new Error('memoizeChain not found in the SDK bundle')
  return cached
}

/** The client-level identity cache of @smithy/core (what `new S3Client({ credentials })` wraps). */
export function smithyCore() {
  const core = nodeRequire('@smithy/core')
  return {
    memoizeIdentityProvider: core.memoizeIdentityProvider,
    isIdentityExpired: core.isIdentityExpired,
    doesIdentityRequireRefresh: core.doesIdentityRequireRefresh,
  }
}

/** `memoize` of @smithy/property-provider (the SDK's generic provider cache). */
export function propertyProviderMemoize() {
  return require('@smithy/property-provider').memoize
}

/**
 * The SDK stack a client builds from the default chain for one source function:
 * `memoizeIdentityProvider(memoizeChain([source], credentialsTreatedAsExpired))` — the exact
 * caching a `new S3Client({})` in a pod gets, with `source` in place of the chain's links.
 */
export function sdkClientStack(source) {
  const { memoizeChain, credentialsTreatedAsExpired } = credentialProviderNodeInternals()
  const { memoizeIdentityProvider, isIdentityExpired, doesIdentityRequireRefresh } = smithyCore()
  const chained = memoizeChain([source], credentialsTreatedAsExpired)
  return memoizeIdentityProvider(chained, isIdentityExpired, doesIdentityRequireRefresh)
}

/** `memoize(source, credentialsTreatedAsExpired, credentialsWillNeedRefresh)` of property-provider. */
export function sdkMemoize(source) {
  const { credentialsTreatedAsExpired, credentialsWillNeedRefresh } = credentialProviderNodeInternals()
  return propertyProviderMemoize()(source, credentialsTreatedAsExpired, credentialsWillNeedRefresh)
}
