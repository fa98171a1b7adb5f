import { randomBytes } from 'node:crypto'

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

/** `n` characters of the alphabet AWS uses in key and role ids. */
export function base32(n: number): string {
  const bytes = randomBytes(n)
  let out = ''
  for (const byte of bytes) out += BASE32[byte % 32]
  return out
}

/** A 20-character temporary access key id, `ASIA` + 16 characters, as STS issues. */
export function accessKeyId(): string {
  return `ASIA${base32(16)}`
}

/** A 40-character secret access key. */
export function secretAccessKey(): string {
  return randomBytes(30).toString('base64')
}

/** A session token shaped like STS's (long, base64, `IQoJb3JpZ2luX2Vj` prefix). */
export function sessionToken(): string {
  return `IQoJb3JpZ2luX2Vj${randomBytes(384).toString('base64')}`
}

/** Lowercase hex, e.g. for the EKS-style issuer id. */
export function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex')
}

/** A Kubernetes-style random suffix (`x2x9k`). */
export function podSuffix(length: number): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789'
  const bytes = randomBytes(length)
  let out = ''
  for (const byte of bytes) out += alphabet[byte % alphabet.length]
  return out
}

/** `2026-11-23T13:06:32Z`: RFC 3339 in UTC without milliseconds, as STS and the agent write it. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/**
 * `2026-11-23T13:06:32.123456789Z`: Go's `time.RFC3339Nano`, as the EKS Pod Identity agent marshals
 * `Expiration` (`SdkCompliantExpirationTime.MarshalText` in aws/eks-pod-identity-agent
 * pkg/credentials/model.go). Go trims trailing zeros of the fraction and drops an all-zero one.
 * `nanos` (0–999 999) are the digits below the millisecond, which a JavaScript `Date` cannot hold.
 */
export function rfc3339Nano(ms: number, nanos = 0): string {
  const iso = new Date(ms).toISOString() // 2026-11-23T13:06:32.123Z
  const fraction = `${iso.slice(20, 23)}${String(nanos).padStart(6, '0')}`.replace(/0+$/, '')
  return `${iso.slice(0, 19)}${fraction === '' ? '' : `.${fraction}`}Z`
}
