// IRSA with every setting spelled out: which role, which token, which region's STS. Use this when
// the pod's environment is not the one the EKS webhook injected (a second role for one client, a
// token projected at another path). fromWebIdentity() re-reads the token file on every call and
// refuses an expired token before calling STS; refreshing() caches and renews in the background.
import { fileURLToPath } from 'node:url'
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3'
import { refreshing } from '@podcreds/refresh'
import { fromWebIdentity } from '@podcreds/web-identity'

/** The role and token to use; the test points these at the podcreds emulator. */
export interface IrsaSettings {
  /** The role whose trust policy names the cluster's OIDC provider and this service account. */
  roleArn: string
  /** The projected service-account token with the audience `sts.amazonaws.com`. */
  tokenFile: string
  /** STS is called in this region (`https://sts.<region>.amazonaws.com`), and S3 too. */
  region: string
  /** Only to send STS requests elsewhere (a VPC endpoint, the emulator). */
  stsEndpoint?: string
  /** Only to send S3 requests elsewhere (the emulator's SigV4-checking endpoint). */
  s3Endpoint?: string
}

/** What the EKS pod identity webhook injects for `eks.amazonaws.com/role-arn`. */
export const EKS_IRSA: IrsaSettings = {
  roleArn: 'arn:aws:iam::111122223333:role/checkout-irsa',
  tokenFile: '/var/run/secrets/eks.amazonaws.com/serviceaccount/token',
  region: 'eu-west-1',
}

/** Lists the buckets with credentials from STS AssumeRoleWithWebIdentity. */
export async function main(settings: IrsaSettings = EKS_IRSA): Promise<string[]> {
  const credentials = refreshing(
    fromWebIdentity({
      roleArn: settings.roleArn,
      tokenFile: settings.tokenFile,
      region: settings.region,
      ...(settings.stsEndpoint === undefined ? {} : { endpoint: settings.stsEndpoint }),
      roleSessionName: 'checkout', // shows up in CloudTrail as assumed-role/checkout-irsa/checkout
      durationSeconds: 3600, // seconds, as STS takes it; the role's maximum session must allow it
      timeoutMs: 5_000,
      maxAttempts: 3, // IDPCommunicationError, throttling, 5xx; never AccessDenied
    }),
  )
  const s3 = new S3Client({
    region: settings.region,
    credentials,
    ...(settings.s3Endpoint === undefined ? {} : { endpoint: settings.s3Endpoint, forcePathStyle: true }),
  })
  try {
    const { Buckets = [] } = await s3.send(new ListBucketsCommand({}))
    return Buckets.map((bucket) => bucket.Name ?? '')
  } finally {
    s3.destroy()
    credentials.close()
  }
}

// Runs only as a script (`npx tsx examples/web-identity-explicit.ts`), not when imported.
if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(await main())
