/**
 * Checks `getToken`'s scopes and returns the `scope` form field and the cache key: the distinct
 * scopes, sorted, space-separated (OAuth's `scope` syntax, RFC 6749 §3.3), so `['a', 'b']` and
 * `['b', 'a']` share one cached token. Throws a TypeError for anything else.
 */
export function scopeKey(scopes: unknown): { scope: string; key: string } {
  const list = typeof scopes === 'string' ? [scopes] : scopes
  if (!Array.isArray(list) || list.length === 0)
    throw new TypeError('getToken: scopes must be a scope string or a non-empty array of them')
  for (const scope of list) {
    // RFC 6749 scope-token: printable ASCII except space, '"' and '\'.
    if (typeof scope !== 'string' || !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(scope))
      throw new TypeError(
        'getToken: each scope must be a non-empty string without spaces, e.g. "https://vault.azure.net/.default"',
      )
  }
  const key = [...new Set(list as string[])].sort().join(' ')
  return { scope: key, key }
}
