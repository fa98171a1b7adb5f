import { join } from 'node:path'
import type { Env } from '@podcreds/core'
import { readEnv, scrub } from '@podcreds/core'
import { inspectToken, readToken } from '@podcreds/token'
import type { PodFact, TokenFact } from './DoctorFacts.js'
import { readRegularFile } from './readRegularFile.js'

/** Where kubelet mounts the service account's own token and namespace in every pod (unless automount is off). */
export const DEFAULT_SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount'

const SOURCE_OF: Record<TokenFact['purpose'], string> = {
  irsa: 'the IRSA token',
  'pod-identity': 'the Pod Identity token',
  aks: 'the Azure federated token',
}

/**
 * Whether this runs in a pod (`KUBERNETES_SERVICE_HOST`, which kubelet sets in every container)
 * and which service account and namespace it runs as: from a projected token's claims
 * (`kubernetes.io.serviceaccount.name`, `kubernetes.io.namespace`) when there is one, else from the
 * service-account folder (`namespace`, and the claims of its `token`). Off-cluster nothing is read.
 */
export async function readPod(
  env: Env,
  dir: string,
  tokens: readonly TokenFact[],
  now: number,
): Promise<PodFact> {
  if (readEnv(env, 'KUBERNETES_SERVICE_HOST') === undefined) return { inCluster: false }
  for (const token of tokens) {
    const account = token.info?.serviceAccount
    if (account !== undefined) {
      return {
        inCluster: true,
        namespace: printable(account.namespace),
        serviceAccount: printable(account.name),
        source: `the claims of ${SOURCE_OF[token.purpose]}`,
      }
    }
  }
  const pod: PodFact = { inCluster: true }
  try {
    const account = inspectToken(await readToken(join(dir, 'token'), { readFile: readRegularFile }), {
      now,
    }).serviceAccount
    if (account !== undefined) {
      pod.namespace = printable(account.namespace)
      pod.serviceAccount = printable(account.name)
      pod.source = join(dir, 'token')
      return pod
    }
  } catch {
    // No token there (automountServiceAccountToken: false) or not one we can decode: try the namespace file.
  }
  try {
    const namespace = Buffer.from(await readRegularFile(join(dir, 'namespace'), 254))
      .toString('utf8')
      .trim()
    if (namespace !== '') {
      pod.namespace = printable(namespace)
      pod.source = join(dir, 'namespace')
    }
  } catch {
    // Nothing mounted: the pod is known only by KUBERNETES_SERVICE_HOST.
  }
  return pod
}

// Claims and file text are outside input: no control characters reach a terminal.
const printable = (text: string): string => scrub(text, [], 253)
