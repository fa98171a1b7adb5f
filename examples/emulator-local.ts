// The whole identity stack on a laptop, no cluster and no AWS account: the emulator plays the EKS
// Pod Identity agent, STS, the cluster's OIDC issuer and kubelet's token files on 127.0.0.1. The
// app code is what runs in a pod — defaultChain() reading a pod's environment — and an AWS SDK
// client proves the credentials work against an endpoint that checks their SigV4 signature.
import { fileURLToPath } from 'node:url'
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { defaultChain } from '@podcreds/chain'
import { redactKeyId } from '@podcreds/core'
import { startEmulator } from '@podcreds/emulator'

/** What one run found out. */
export interface LocalRun {
  /** The ARN AWS (here: the emulator) saw the request signed as. */
  arn: string
  account: string
  /** Shortened, `ASIA…WXYZ`: never print a whole key, let alone the secret. */
  accessKeyId: string
  expiresAt: Date | undefined
  /** When the engine will renew the credentials in the background. */
  nextRefreshAt: Date | undefined
}

/** Resolves credentials as a pod with EKS Pod Identity (or IRSA) would, then calls STS. */
export async function main(pod: 'pod-identity' | 'irsa' = 'pod-identity'): Promise<LocalRun> {
  const emulator = await startEmulator()
  // `env` and `irsaEnv` are the environment of a pod, as the EKS webhook would set it.
  const credentials = defaultChain({ env: pod === 'irsa' ? emulator.irsaEnv : emulator.env })
  const sts = new STSClient({ region: emulator.region, endpoint: emulator.awsUrl, credentials })
  try {
    const identity = await sts.send(new GetCallerIdentityCommand({}))
    const resolved = await credentials() // cached: the STS call above already resolved them
    const { nextRefreshAt } = credentials.stats()
    return {
      arn: identity.Arn ?? '',
      account: identity.Account ?? '',
      accessKeyId: redactKeyId(resolved.accessKeyId),
      expiresAt: resolved.expiration,
      nextRefreshAt,
    }
  } finally {
    sts.destroy()
    credentials.close()
    await emulator.close()
  }
}

// Runs only as a script (`npx tsx examples/emulator-local.ts [irsa]`), not when imported.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(await main(process.argv[2] === 'irsa' ? 'irsa' : 'pod-identity'))
}
