import { readEnv } from '@podcreds/core'
import { resolveStsEndpoint } from '@podcreds/web-identity'
import type { Check } from '../Check.js'
import type { Finding } from '../Finding.js'
import { irsaConfigured, podIdentityConfigured } from './configured.js'

/**
 * What the variables alone say: IRSA and Pod Identity both set (by hand: the EKS webhook never
 * injects both), and IRSA without a region (STS calls then go to us-east-1, as the AWS SDK does —
 * not when `AWS_ENDPOINT_URL_STS`/`AWS_ENDPOINT_URL` names the endpoint).
 */
export const checkEnvironment: Check = {
  name: 'environment',
  run(facts) {
    const { env } = facts
    const findings: Finding[] = []
    if (irsaConfigured(env) && podIdentityConfigured(env)) {
      findings.push({
        check: 'environment',
        severity: 'warning',
        message:
          'both IRSA (AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE) and EKS Pod Identity (AWS_CONTAINER_CREDENTIALS_*) are set; the chain uses IRSA (web identity), as the AWS SDKs do. The EKS webhook never injects both, so one of them was set by hand',
        fix: "keep one: remove the hand-set variables from the pod spec's env (kubectl get pod <pod> -o yaml) or the image, then restart the pod",
      })
    }
    if (irsaConfigured(env)) {
      let warning: string | undefined
      try {
        const region = readEnv(env, 'AWS_REGION') ?? readEnv(env, 'AWS_DEFAULT_REGION')
        warning = resolveStsEndpoint({ env, ...(region === undefined ? {} : { region }) }).warning
      } catch {
        // A malformed endpoint or region: the web-identity link fails on it, and the chain check says so.
      }
      if (warning !== undefined) {
        findings.push({
          check: 'environment',
          severity: 'warning',
          message: `no region (AWS_REGION / AWS_DEFAULT_REGION): STS calls go to us-east-1, which adds latency and fails where that region's STS is disabled`,
          fix: 'set AWS_REGION in the pod spec (the EKS webhook sets it for IRSA pods)',
        })
      }
    }
    return findings
  },
}
