import type { AwsCredentialIdentity } from '@smithy/types'
import { redactCredentials } from './redact.js'

const INSPECT = Symbol.for('nodejs.util.inspect.custom')

/**
 * Makes `console.log`, `util.inspect` and `JSON.stringify` of a credentials object print the
 * redacted form, while the fields themselves stay intact for the AWS SDK to sign with. Returns a
 * new object; the input is not changed. The two added members are non-enumerable, so spreading
 * the result yields plain credentials.
 *
 * @example
 * ```ts
 * const creds = protectCredentials({ accessKeyId, secretAccessKey, sessionToken })
 * console.log(creds) // { accessKeyId: 'ASIA…WXYZ', secretAccessKey: '[redacted]', ... }
 * ```
 */
export function protectCredentials<T extends AwsCredentialIdentity>(credentials: T): T {
  const copy = { ...credentials }
  Object.defineProperty(copy, INSPECT, {
    value(): unknown {
      return redactCredentials(copy)
    },
  })
  Object.defineProperty(copy, 'toJSON', {
    value(): unknown {
      return redactCredentials(copy)
    },
  })
  return copy
}
