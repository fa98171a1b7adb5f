import { readEnv, scrub } from '@podcreds/core'
import type { Check } from '../Check.js'
import type { Finding } from '../Finding.js'
import { PROBE_BUDGET_MS } from '../probeBudget.js'
import { withDeadline } from '../withDeadline.js'

const BLOCK_IMDS =
  "block instance metadata from pods: require IMDSv2 with a hop limit of 1 on the nodes (aws ec2 modify-instance-metadata-options --http-tokens required --http-put-response-hop-limit 1, or the node group's launch template), or a NetworkPolicy that denies egress to 169.254.169.254/32 (and [fd00:ec2::254])"

/**
 * In a pod, whether the node's instance role is reachable through IMDS (issue #17 part 2, seeds
 * 000/002: "unless you block pod access to IMDS, the pod has the permissions of the node IAM
 * role"): probed as a pod would reach it — the IMDSv2 token `PUT`, then the role name, one attempt
 * each with a 1 s timeout, never the credentials — and a warning with the fixes when it answers
 * (unless this pod opted in with `PODCREDS_INSTANCE_METADATA=true`: kube2iam/kiam serve per-pod
 * roles there). `AWS_EC2_METADATA_DISABLED` is not honoured here: it only tells AWS SDKs not to
 * ask, any other code in the pod still can. Off-cluster IMDS is the AWS SDK's last source as
 * usual: not probed, no pod advice. (Written for issue #17 on the podsafe branch, moved into the
 * checks of issue #21.)
 */
export const checkInstanceMetadata: Check = {
  name: 'instance-metadata',
  async run({ env, pod }) {
    if (!pod.inCluster) return []
    const finding = (severity: Finding['severity'], message: string, fix?: string): Finding =>
      fix === undefined
        ? { check: 'instance-metadata', severity, message }
        : { check: 'instance-metadata', severity, message, fix }
    const { checkInstanceMetadata: probeImds } = await import('@podcreds/container')
    const probed = await withDeadline(
      probeImds({ env: { ...env, AWS_EC2_METADATA_DISABLED: undefined }, timeoutMs: 1_000 }),
      PROBE_BUDGET_MS,
    )
    if (!probed.done)
      return [
        finding(
          'ok',
          `IMDS gave no answer within ${PROBE_BUDGET_MS / 1000} s: the node's role is not reachable from this pod`,
        ),
      ]
    const probe = probed.value
    const where = probe.endpoint === '' ? 'IMDS' : `IMDS at ${probe.endpoint}`
    if (!probe.reachable) {
      return [
        finding(
          'ok',
          `${where} does not answer from this pod (${scrub(probe.reason, [], 300)}): the node's role is not reachable`,
        ),
      ]
    }
    const role = scrub(probe.roleName ?? '(unnamed)', [], 128)
    if (readEnv(env, 'PODCREDS_INSTANCE_METADATA')?.toLowerCase() === 'true') {
      return [
        finding(
          'ok',
          `${where} answers with the role ${role}, and this pod opted in to it (PODCREDS_INSTANCE_METADATA=true: kube2iam or kiam serve per-pod roles there)`,
        ),
      ]
    }
    return [
      finding(
        'warning',
        `the instance role ${role} is reachable from this pod through ${where} (it answered the IMDSv2 token PUT and named the role): that is the node's role, unless kube2iam or kiam serve per-pod roles there, and any code in this pod can use its permissions. podcreds does not (its imds link is off in a pod); other SDKs fall back to it`,
        BLOCK_IMDS,
      ),
    ]
  },
}
