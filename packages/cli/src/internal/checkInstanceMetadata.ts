import { checkInstanceMetadata as probeInstanceMetadata } from '@podcreds/container'
import type { Env } from '@podcreds/core'
import { readEnv } from '@podcreds/core'

/**
 * One finding of a doctor check, in the shape of the reshaped doctor (issue 21): a check name, a
 * severity, a sentence, and a fix when there is something to do. Never a secret.
 */
export interface Finding {
  check: string
  severity: 'error' | 'warning' | 'ok'
  message: string
  fix?: string
}

const CHECK = 'instance-metadata'

/**
 * Issue 17, part 2: in a pod (KUBERNETES_SERVICE_HOST set), probe IMDS as a pod reaches it —
 * the IMDSv2 token PUT, then the role name, never the credentials; one attempt, a short timeout —
 * and warn when it answers: code in this pod can take that role's credentials (the node's role,
 * unless kube2iam or kiam serve per-pod roles there). Seeds 000/002: "unless you block pod access
 * to IMDS, the pod has the permissions of the node IAM role". `AWS_EC2_METADATA_DISABLED` is not
 * honoured here: it only tells AWS SDKs not to ask, any other code still can.
 */
export async function checkInstanceMetadata(
  env: Env,
  options: { timeoutMs?: number } = {},
): Promise<Finding[]> {
  if (readEnv(env, 'KUBERNETES_SERVICE_HOST') === undefined) {
    return [
      {
        check: CHECK,
        severity: 'ok',
        message: 'not in a pod (KUBERNETES_SERVICE_HOST is unset): IMDS not probed',
      },
    ]
  }
  const probe = await probeInstanceMetadata({
    env: { ...env, AWS_EC2_METADATA_DISABLED: undefined },
    timeoutMs: options.timeoutMs ?? 1000,
  })
  if (!probe.reachable) {
    return [
      {
        check: CHECK,
        severity: 'ok',
        message: `IMDS does not hand this pod an instance role (${probe.endpoint || 'no endpoint'}): ${probe.reason}`,
      },
    ]
  }
  return [
    {
      check: CHECK,
      severity: 'warning',
      message:
        `IMDS at ${probe.endpoint} answers this pod with the instance role ${probe.roleName}: any code in this pod can take its credentials ` +
        "(the node's IAM role, unless kube2iam or kiam serve per-pod roles there)",
      fix:
        'require IMDSv2 with a hop limit of 1 on the nodes (launch template MetadataOptions HttpTokens=required, HttpPutResponseHopLimit=1), ' +
        'or block 169.254.169.254/32 (and fd00:ec2::254) with a NetworkPolicy egress rule; pods then use Pod Identity or IRSA only',
    },
  ]
}
