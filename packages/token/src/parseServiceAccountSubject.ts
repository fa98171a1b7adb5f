import { invalidToken } from './internal/invalidToken.js'

/** A Kubernetes service account: namespace and name. */
export interface ServiceAccountRef {
  /** Namespace, a DNS-1123 label. */
  namespace: string
  /** Name, a DNS-1123 subdomain. */
  name: string
}

const PREFIX = 'system:serviceaccount:'
// Kubernetes validation: namespaces are DNS-1123 labels, service-account names DNS-1123 subdomains.
const LABEL = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/
const SUBDOMAIN = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/

/**
 * Splits a service-account subject, `system:serviceaccount:<namespace>:<name>` (the `sub` claim
 * of every service-account token), into namespace and name. Anything else throws
 * `ERR_TOKEN_INVALID`.
 *
 * @param subject - the `sub` claim
 * @example
 * ```ts
 * parseServiceAccountSubject('system:serviceaccount:payments:api') // { namespace: 'payments', name: 'api' }
 * ```
 */
export function parseServiceAccountSubject(subject: string): ServiceAccountRef {
  if (typeof subject === 'string' && subject.startsWith(PREFIX)) {
    const rest = subject.slice(PREFIX.length)
    const colon = rest.indexOf(':')
    const namespace = rest.slice(0, colon)
    const name = rest.slice(colon + 1)
    if (colon > 0 && LABEL.test(namespace) && name.length <= 253 && SUBDOMAIN.test(name)) {
      return { namespace, name }
    }
  }
  // The subject is a claim, not a secret, but only a short one is quoted: callers may pass
  // anything here, even a whole token by mistake.
  const shown =
    typeof subject === 'string' && subject.length <= 300 && !subject.includes('.ey')
      ? ` ${JSON.stringify(subject)}`
      : ''
  throw invalidToken(`subject${shown} is not of the form system:serviceaccount:<namespace>:<name>`)
}
