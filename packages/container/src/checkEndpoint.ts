import { CredentialsError, describeUrl } from '@podcreds/core'

// The hosts a plain-http container credentials endpoint may point at (DESIGN "@podcreds/container"):
// the ECS agent (169.254.170.2), the EKS Pod Identity agent (169.254.170.23 and [fd00:ec2::23]),
// and loopback. Compared after WHATWG normalization, so `http://127.1`, `0x7f000001` and
// `[FD00:EC2::23]` arrive here in their canonical form. Deliberately absent: IMDS
// (169.254.169.254), 169.254.170.24, other private ranges, `localhost.` (a DNS name that resolvers
// may send elsewhere) and IPv4-mapped IPv6 (`[::ffff:7f00:1]`), which the SDK rejects as well.
const ALLOWED_HTTP_HOSTS: ReadonlySet<string> = new Set([
  '169.254.170.2',
  '169.254.170.23',
  '[fd00:ec2::23]',
  '[::1]',
  'localhost',
])

// WHATWG serializes every IPv4 host as four decimal octets, so this matches 127.0.0.0/8 and
// nothing else (a DNS name such as `127.0.0.1.nip.io` has more labels).
const LOOPBACK_V4 = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/

/**
 * Checks a container credentials endpoint against the allowlist and returns it parsed. Any
 * `https:` URL is accepted; `http:` only to the ECS agent `169.254.170.2`, the EKS Pod Identity
 * agent `169.254.170.23` / `[fd00:ec2::23]`, loopback `127.0.0.0/8` / `[::1]`, and `localhost`,
 * compared after WHATWG URL normalization (so `http://127.1` is `127.0.0.1`). Any port is accepted.
 *
 * Throws a `CredentialsError`: `ERR_ENDPOINT_NOT_ALLOWED` for any other scheme or host (judged
 * first, so `http://evil@169.254.169.254` is refused as the IMDS address it is),
 * `ERR_INVALID_CONFIG` when `url` is not an absolute URL or carries user info (the password is
 * never echoed). `podcreds doctor` uses it to explain a rejected endpoint.
 *
 * @param url - the absolute endpoint URL, e.g. the value of `AWS_CONTAINER_CREDENTIALS_FULL_URI`
 * @returns the parsed, normalized URL
 * @example
 * ```ts
 * checkEndpoint('http://169.254.170.23/v1/credentials').href // accepted
 * checkEndpoint('http://169.254.169.254/') // throws ERR_ENDPOINT_NOT_ALLOWED
 * ```
 */
export function checkEndpoint(url: string): URL {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    // The text is not echoed: an unparsable URI may still carry a password.
    throw new CredentialsError('container credentials URI is not a valid absolute URL', {
      code: 'ERR_INVALID_CONFIG',
    })
  }
  if (parsed.protocol === 'http:') {
    // The host is judged first: `http://evil@169.254.169.254/` is an attempt on IMDS and reads as
    // one (ERR_ENDPOINT_NOT_ALLOWED, issue 11); user info is refused on any host we would call.
    if (!ALLOWED_HTTP_HOSTS.has(parsed.hostname) && !LOOPBACK_V4.test(parsed.hostname)) {
      throw new CredentialsError(
        `container credentials URI ${describeUrl(parsed)} is not allowed: plain http only to ` +
          '169.254.170.2, 169.254.170.23, [fd00:ec2::23], 127.0.0.0/8, [::1] or localhost; use https otherwise',
        { code: 'ERR_ENDPOINT_NOT_ALLOWED' },
      )
    }
  } else if (parsed.protocol !== 'https:') {
    throw new CredentialsError(
      `container credentials URI scheme ${parsed.protocol} is not allowed: only http: and https:`,
      { code: 'ERR_ENDPOINT_NOT_ALLOWED' },
    )
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new CredentialsError(
      `container credentials URI ${describeUrl(parsed)} must not contain user info (user:password@)`,
      { code: 'ERR_INVALID_CONFIG' },
    )
  }
  return parsed
}
