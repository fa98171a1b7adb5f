import type { Check } from '../Check.js'

/**
 * Whether doctor runs in a pod, and as which service account: the name the fixes use (issue #21).
 * Off-cluster it says so, and no check gives pod advice.
 */
export const checkPod: Check = {
  name: 'pod',
  run({ pod, serviceAccountDir }) {
    if (!pod.inCluster) {
      return [
        {
          check: 'pod',
          severity: 'ok',
          message: 'not in a Kubernetes pod (KUBERNETES_SERVICE_HOST is not set)',
        },
      ]
    }
    if (pod.namespace === undefined) {
      return [
        {
          check: 'pod',
          severity: 'ok',
          message: `in a Kubernetes pod (KUBERNETES_SERVICE_HOST is set); its service account is not known: no projected token names it and ${serviceAccountDir} is not mounted (automountServiceAccountToken: false)`,
        },
      ]
    }
    const where =
      pod.serviceAccount === undefined
        ? `in namespace ${pod.namespace} (from ${pod.source}; the service account is not known)`
        : `running as service account ${pod.namespace}/${pod.serviceAccount} (from ${pod.source})`
    return [{ check: 'pod', severity: 'ok', message: `in a Kubernetes pod, ${where}` }]
  },
}
