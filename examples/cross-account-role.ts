// Assume a second role, e.g. in another account, on top of the pod's own identity: the pod's
// credentials (Pod Identity or IRSA, from defaultChain()) sign the sts:AssumeRole call.
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3'
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers'
import { defaultChain } from '@podcreds/chain'
import { refreshing } from '@podcreds/refresh'

const podCredentials = defaultChain()

// The role in the other account must trust the pod's role (its trust policy names the pod
// role's ARN as principal, with sts:AssumeRole).
const crossAccount = fromTemporaryCredentials({
  masterCredentials: podCredentials,
  params: {
    RoleArn: 'arn:aws:iam::444455556666:role/reports-reader',
    RoleSessionName: 'checkout-reports',
    DurationSeconds: 3600,
  },
  clientConfig: { region: 'eu-west-1' },
})

// Optional: let the podcreds engine cache and refresh the assumed-role credentials too, in the
// background with jitter, instead of on the request path.
const credentials = refreshing(crossAccount)

const s3 = new S3Client({ region: 'eu-west-1', credentials })
const { Buckets = [] } = await s3.send(new ListBucketsCommand({}))
console.log(Buckets.map((bucket) => bucket.Name))
