// The one thing most pods need: an S3 client whose credentials come from whatever the pod has —
// EKS Pod Identity, IRSA, environment keys, or (off-cluster) your AWS profile — refreshed in the
// background, never on a request's path.
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3'
import { credentialsPlugin, defaultChain } from '@podcreds/chain'

const credentials = defaultChain()
const s3 = new S3Client({ region: 'eu-west-1', credentials })
// Optional: on `ExpiredToken`, drop the rejected key and retry the request once with fresh ones.
s3.middlewareStack.use(credentialsPlugin(credentials))

const { Buckets = [] } = await s3.send(new ListBucketsCommand({}))
console.log(Buckets.map((bucket) => bucket.Name))

// On shutdown: stop the background refresh timer (it never holds the process open anyway).
process.once('SIGTERM', () => {
  credentials.close()
  s3.destroy()
})
