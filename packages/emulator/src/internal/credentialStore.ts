import { accessKeyId, base32, secretAccessKey, sessionToken } from './ids.js'

/** A credential set the emulator issued, remembered so the AWS endpoint can verify signatures. */
export interface IssuedCredentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken: string
  /** True expiry, epoch ms on the emulator's clock (what the AWS endpoint enforces). */
  expiresAt: number
  accountId: string
  /** `arn:aws:sts::<account>:assumed-role/<role>/<session>`. */
  arn: string
  /** `AROA…:<session>`. */
  userId: string
  roleArn: string
}

export interface CredentialStore {
  issue(roleArn: string, sessionName: string, lifetimeMs: number, now: number): IssuedCredentials
  get(accessKeyId: string): IssuedCredentials | undefined
  readonly issued: number
}

// Keep expired sets for a while so their use is answered `ExpiredToken`, not "unknown key".
const FORGET_AFTER_MS = 24 * 3_600_000

export function createCredentialStore(): CredentialStore {
  const byKey = new Map<string, IssuedCredentials>()
  const roleIds = new Map<string, string>()
  let issued = 0
  return {
    issue(roleArn, sessionName, lifetimeMs, now) {
      // Sweep now and then, not per issue: a benchmark may issue hundreds of thousands of sets.
      if (issued % 1024 === 1023) {
        for (const [key, creds] of byKey) if (creds.expiresAt + FORGET_AFTER_MS < now) byKey.delete(key)
      }
      const match = /^arn:(aws[\w-]*):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(roleArn)
      const partition = match?.[1] ?? 'aws'
      const accountId = match?.[2] ?? '000000000000'
      const roleName = match?.[3] ?? 'unknown'
      let roleId = roleIds.get(roleArn)
      if (roleId === undefined) {
        roleId = `AROA${base32(17)}`
        roleIds.set(roleArn, roleId)
      }
      const creds: IssuedCredentials = {
        accessKeyId: accessKeyId(),
        secretAccessKey: secretAccessKey(),
        sessionToken: sessionToken(),
        expiresAt: now + lifetimeMs,
        accountId,
        arn: `arn:${partition}:sts::${accountId}:assumed-role/${roleName}/${sessionName}`,
        userId: `${roleId}:${sessionName}`,
        roleArn,
      }
      byKey.set(creds.accessKeyId, creds)
      issued += 1
      return creds
    },
    get: (id) => byKey.get(id),
    get issued() {
      return issued
    },
  }
}
