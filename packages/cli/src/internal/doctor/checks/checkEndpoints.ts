import type { Env } from '@podcreds/core'
import { describeUrl, httpRequest, isCredentialsError, readEnv } from '@podcreds/core'
import type { Check } from '../Check.js'
import type { Finding } from '../Finding.js'
import { PROBE_BUDGET_MS, PROBE_TIMEOUT_MS } from '../probeBudget.js'
import { withDeadline } from '../withDeadline.js'

/**
 * An endpoint the chain did not reach (Pod Identity set up next to IRSA, which comes first) is
 * probed once, so a user about to remove the other setup knows whether it would answer. The probe
 * is a `GET /` with one attempt: any HTTP answer — a 404 at the root, say — only shows that
 * something listens there; it is said so, never shown as the endpoint's health (issue #21).
 * Endpoints the chain reached are not probed again: the walk's own answer is their health.
 */
export const checkEndpoints: Check = {
  name: 'endpoint',
  async run({ env, chain }) {
    const findings: Finding[] = []
    const notReached = (name: string): boolean =>
      chain.explanation?.links.some((link) => link.name === name && link.status === 'not-reached') === true
    const agent = agentUrl(env)
    if (agent !== undefined && notReached('container')) {
      findings.push(await probe('the Pod Identity agent', agent, 'the container link'))
    }
    return findings
  },
}

function agentUrl(env: Env): string | undefined {
  const relative = readEnv(env, 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI')
  return relative === undefined
    ? readEnv(env, 'AWS_CONTAINER_CREDENTIALS_FULL_URI')
    : `http://169.254.170.2${relative}`
}

async function probe(what: string, target: string, link: string): Promise<Finding> {
  let url: URL
  try {
    // Only where the container link itself would connect (DESIGN "@podcreds/container": the
    // agent's addresses, loopback, https), never to an address it refuses.
    const { checkEndpoint } = await import('@podcreds/container')
    url = new URL('/', checkEndpoint(target))
  } catch {
    return {
      check: 'endpoint',
      severity: 'warning',
      message: `${what}: its URL is malformed or not an allowed container endpoint, so it was not probed`,
      fix: 'AWS_CONTAINER_CREDENTIALS_FULL_URI must be the Pod Identity agent (http://169.254.170.23/v1/credentials, as the EKS webhook sets it), an https: URL, or loopback',
    }
  }
  const where = describeUrl(url)
  try {
    const answered = await withDeadline(
      httpRequest({ url }, { timeoutMs: PROBE_TIMEOUT_MS, connectTimeoutMs: PROBE_TIMEOUT_MS / 2 }),
      PROBE_BUDGET_MS,
    )
    if (!answered.done) throw new Error('no answer in time')
    return {
      check: 'endpoint',
      severity: 'ok',
      message: `${what} at ${where} (not reached by the chain: ${link} comes later) answers HTTP: GET / gave ${answered.value.status}, which only shows that something listens there; no credentials were asked for`,
    }
  } catch (error) {
    const reason = isCredentialsError(error) ? `${error.message} [${error.code}]` : 'no answer in time'
    return {
      check: 'endpoint',
      severity: 'warning',
      message: `${what} at ${where} (not reached by the chain: ${link} comes later) does not answer GET /: ${reason}`,
      fix: 'it is not used now; before relying on it, check that the eks-pod-identity-agent DaemonSet runs on this node and that network policies allow 169.254.170.23:80',
    }
  }
}
