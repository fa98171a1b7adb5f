// Cross-account from a pod: the pod's own role (EKS Pod Identity or IRSA, whichever defaultChain()
// finds) signs sts:AssumeRole for a role in another account. A Pod Identity association can only
// name a role in the cluster's account; every other account is one AssumeRole away. The target
// role's trust policy names the pod's role: { "Principal": { "AWS": "<pod role ARN>" },
// "Action": "sts:AssumeRole" }. AWS caps such a chained session at one hour.
import { fileURLToPath } from 'node:url'
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3'
import { defaultChain } from '@podcreds/chain'
import type { Env } from '@podcreds/core'
import { refreshing } from '@podcreds/refresh'
import { fromAssumeRole } from '@podcreds/sts'

/** The role in the other account (AWS's documentation account 444455556666). */
export const REPORTS_ROLE = 'arn:aws:iam::444455556666:role/reports-reader'

/** Lists the other account's buckets; returns the account that owns them and their names. */
export async function main(
  roleArn: string = REPORTS_ROLE,
  env: Env = process.env,
): Promise<{ owner: string; buckets: string[] }> {
  const pod = defaultChain({ env }) // Pod Identity or IRSA: the same code in either pod
  const credentials = refreshing(fromAssumeRole({ source: pod, roleArn, roleSessionName: 'reports', env }))
  const s3 = new S3Client({
    region: env.AWS_REGION ?? 'eu-west-1',
    credentials,
    // Only to send S3 requests elsewhere (the emulator's SigV4-checking endpoint).
    ...(env.AWS_ENDPOINT_URL_S3 === undefined
      ? {}
      : { endpoint: env.AWS_ENDPOINT_URL_S3, forcePathStyle: true }),
  })
  try {
    const { Owner, Buckets = [] } = await s3.send(new ListBucketsCommand({}))
    return { owner: Owner?.ID ?? '', buckets: Buckets.map((bucket) => bucket.Name ?? '') }
  } finally {
    s3.destroy()
    credentials.close()
    pod.close()
  }
}

// Runs only as a script (`npx tsx examples/assume-role.ts`), not when imported.
if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(await main())
