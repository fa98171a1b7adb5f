// EKS Pod Identity with every setting spelled out, for a process whose environment you do not
// control (a sidecar, a job runner, a token mounted at another path). fromContainer() reads the
// token file on every call, since kubelet rotates it; refreshing() caches the credentials and
// renews them in the background with jitter, so no S3 request waits for the agent.
import { fileURLToPath } from 'node:url'
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3'
import { fromContainer } from '@podcreds/container'
import { refreshing } from '@podcreds/refresh'

/** Where the agent and the token are; the test points these at the podcreds emulator. */
export interface PodIdentitySettings {
  /** The EKS Pod Identity agent's credentials URL. */
  agentUrl: string
  /** The projected service-account token with the audience `pods.eks.amazonaws.com`. */
  tokenFile: string
  region: string
  /** Only to send S3 requests somewhere other than AWS (the emulator's SigV4-checking endpoint). */
  s3Endpoint?: string
}

/** What the EKS Pod Identity webhook puts into every pod with an association. */
export const EKS_POD_IDENTITY: PodIdentitySettings = {
  agentUrl: 'http://169.254.170.23/v1/credentials',
  tokenFile: '/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token',
  region: 'eu-west-1',
}

/** Lists the buckets with credentials from the Pod Identity agent. */
export async function main(settings: PodIdentitySettings = EKS_POD_IDENTITY): Promise<string[]> {
  const credentials = refreshing(
    fromContainer({
      fullUri: settings.agentUrl,
      authorizationTokenFile: settings.tokenFile,
      timeoutMs: 2_000, // the whole request
      connectTimeoutMs: 1_000,
      maxAttempts: 3, // network errors, timeouts, 429 and 5xx; never 400/403/404
    }),
    // Back off to at most one agent call per 30-60 s while the agent is sick (default 60 s).
    { maxBackoffMs: 60_000 },
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
    credentials.close() // stops the background refresh timer (it never holds the process open)
  }
}

// Runs only as a script (`npx tsx examples/container-explicit.ts`), not when imported.
if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(await main())
