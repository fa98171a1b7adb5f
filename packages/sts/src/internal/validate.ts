// Formats of the values STS takes, checked before anything is sent. Options that fail throw a
// TypeError at construction; the same values from the environment fail at call time with
// ERR_INVALID_CONFIG (DESIGN "@podcreds/web-identity").

// arn:<partition>:iam::<12-digit account>:role/<optional path/><name>. Role names and path
// segments use IAM's character set `[\w+=,.@-]`; names are at most 64 characters.
const ROLE_ARN = /^arn:aws[a-z-]{0,20}:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/

// Region codes: `us-east-1`, `us-gov-west-1`, `cn-north-1`, `eusc-de-east-1`, `us-isob-east-1`.
const REGION = /^[a-z]{2,4}(?:-[a-z]+)+-\d{1,2}$/

// STS RoleSessionName: 2 to 64 characters of `[\w+=,.@-]`.
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/

// A managed policy ARN (`arn:aws:iam::aws:policy/...` or an account's own).
const POLICY_ARN = /^arn:aws[a-z-]{0,20}:iam::(?:\d{12}|aws):policy\/[\x21-\x7e]{1,2000}$/

/** The pseudo-region of the global STS endpoint, accepted as the AWS SDK accepts it. */
export const GLOBAL_REGION = 'aws-global'

/** Whether `value` is an IAM role ARN, `arn:<partition>:iam::<12-digit account>:role/<path/name>`. */
export function isRoleArn(value: string): boolean {
  return value.length <= 2048 && ROLE_ARN.test(value)
}

/** Whether `value` is a region code (`us-east-1`, `cn-north-1`, …) or `aws-global`. */
export function isRegion(value: string): boolean {
  return value === GLOBAL_REGION || REGION.test(value)
}

/** Whether `value` is a valid STS `RoleSessionName`: 2 to 64 characters of `[\w+=,.@-]`. */
export function isSessionName(value: string): boolean {
  return SESSION_NAME.test(value)
}

/** Whether `value` is a managed IAM policy ARN. */
export function isPolicyArn(value: string): boolean {
  return POLICY_ARN.test(value)
}

/**
 * Whether `value` parses as an absolute `http:` or `https:` URL with a host.
 */
export function parseEndpoint(value: string | URL): URL | undefined {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return undefined
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') return undefined
  return url
}
