// The defaults every podcreds STS client shares (fromWebIdentity, fromAssumeRole), as the AWS
// SDK's STS client has one set for every operation.

/** Whole STS request, per attempt, in milliseconds. @defaultValue 5000 */
export const DEFAULT_STS_TIMEOUT_MS = 5000
/** Until the connection to STS is up, in milliseconds. @defaultValue 1000 */
export const DEFAULT_STS_CONNECT_TIMEOUT_MS = 1000
/** Attempts per STS call, the first included. @defaultValue 3 */
export const DEFAULT_STS_MAX_ATTEMPTS = 3
