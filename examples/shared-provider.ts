// Many SDK clients in one process, one credentials cache: sharedProvider() keeps one refresh
// engine per key, so ten clients cause one agent call per refresh, not ten.
import { S3Client } from '@aws-sdk/client-s3'
import { STSClient } from '@aws-sdk/client-sts'
import { defaultChain } from '@podcreds/chain'
import { sharedProvider } from '@podcreds/refresh/shared'

/** The pod's credentials, the same engine wherever in the process this is called. */
export function podCredentials(): ReturnType<typeof defaultChain> {
  return sharedProvider('pod-default-chain', () => defaultChain())
}

// Clients created anywhere (per request, per module, per tenant) all share one cache.
const s3ByRegion = new Map<string, S3Client>()
export function s3For(region: string): S3Client {
  let client = s3ByRegion.get(region)
  if (client === undefined) {
    client = new S3Client({ region, credentials: podCredentials() })
    s3ByRegion.set(region, client)
  }
  return client
}

const sts = new STSClient({ region: 'eu-west-1', credentials: podCredentials() })

s3For('eu-west-1')
s3For('us-east-1')
const [a, b] = [podCredentials(), podCredentials()]
console.log(a === b) // true: one engine for every client
console.log(`${s3ByRegion.size + 1} clients, ${a.stats().sourceCalls} source calls`)
sts.destroy()
