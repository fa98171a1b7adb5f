import type { InstanceMetadataOptions } from '@podcreds/container'
import { fromInstanceMetadata } from '@podcreds/container'
import type { AwsCredentialIdentity, DescribableProvider, Env, SourceDescription } from '@podcreds/core'
import { CredentialsError, readEnv } from '@podcreds/core'

export const ENV_INSTANCE_METADATA = 'PODCREDS_INSTANCE_METADATA'

/** Whether the link runs now, and if not, why (a sentence for `explain()` and the exhausted error). */
type Decision = { on: boolean; why: string; by: string }

/**
 * The `imds` link: the node's instance role through our IMDSv2 client. Issue 17 / seeds 000, 002:
 * inside Kubernetes (`KUBERNETES_SERVICE_HOST` set) a pod that reaches IMDS gets the **node's**
 * role, and no AWS SDK guards against it. So there it is skipped without any request unless the
 * caller opts in (`instanceMetadata: true`, or `PODCREDS_INSTANCE_METADATA=true` for code that does
 * not call us directly: kube2iam/kiam serve per-pod roles on that address). `instanceMetadata:
 * false` turns it off anywhere; off-cluster it is on, as in the AWS SDK. The decision is made per
 * call, from the environment of that call.
 */
export function imdsLink(
  instanceMetadata: boolean | undefined,
  env: Env | undefined,
  options: InstanceMetadataOptions,
): DescribableProvider<AwsCredentialIdentity> {
  const inner = fromInstanceMetadata(options)
  const decide = (): Decision => {
    if (instanceMetadata === false)
      return { on: false, why: 'disabled (instanceMetadata: false)', by: 'option instanceMetadata' }
    if (instanceMetadata === true)
      return { on: true, why: 'opted in with instanceMetadata: true', by: 'option instanceMetadata' }
    const current = options.env ?? env ?? process.env
    const flag = readEnv(current, ENV_INSTANCE_METADATA)
    if (flag !== undefined) {
      const value = flag.toLowerCase()
      if (value === 'true')
        return { on: true, why: `opted in with ${ENV_INSTANCE_METADATA}=true`, by: ENV_INSTANCE_METADATA }
      if (value === 'false')
        return { on: false, why: `disabled (${ENV_INSTANCE_METADATA}=false)`, by: ENV_INSTANCE_METADATA }
      throw new CredentialsError(`imds: ${ENV_INSTANCE_METADATA} must be true or false`, {
        code: 'ERR_INVALID_CONFIG',
      })
    }
    if (readEnv(current, 'KUBERNETES_SERVICE_HOST') !== undefined) {
      return {
        on: false,
        why:
          "skipped inside Kubernetes (KUBERNETES_SERVICE_HOST is set), without a request: a pod would get the node's instance role. " +
          `Opt in with instanceMetadata: true or ${ENV_INSTANCE_METADATA}=true (kube2iam, kiam)`,
        by: 'KUBERNETES_SERVICE_HOST',
      }
    }
    return { on: true, why: 'off-cluster (no KUBERNETES_SERVICE_HOST): on, as in the AWS SDK', by: 'default' }
  }

  const provider = async (identityProperties?: Record<string, unknown>): Promise<AwsCredentialIdentity> => {
    const decision = decide()
    if (!decision.on) throw new CredentialsError(`imds: ${decision.why}`, { code: 'ERR_NOT_CONFIGURED' })
    return await inner(identityProperties)
  }

  const describe = async (): Promise<SourceDescription> => {
    const decision = decide()
    if (!decision.on) return { configured: false, reason: decision.why, details: {} }
    const description = await inner.describe()
    return {
      ...description,
      reason: description.configured ? `${description.reason}; ${decision.why}` : description.reason,
      details: { ...description.details, enabledBy: decision.by },
    }
  }

  return Object.assign(provider, { describe })
}
