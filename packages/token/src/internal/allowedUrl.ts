const LOOPBACK_NAMES = new Set(['localhost', '[::1]'])

/**
 * Key material must come over `https:`, or over `http:` from loopback only (tests, the emulator):
 * plain HTTP from anywhere else would let the network substitute the keys.
 */
export function isAllowedKeyUrl(url: URL): boolean {
  if (url.protocol === 'https:') return true
  if (url.protocol !== 'http:') return false
  return LOOPBACK_NAMES.has(url.hostname) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(url.hostname)
}

/** `<issuer>/.well-known/openid-configuration`, a trailing `/` removed first (OIDC Discovery §4). */
export function discoveryUrl(issuer: string): URL {
  return new URL(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`)
}
