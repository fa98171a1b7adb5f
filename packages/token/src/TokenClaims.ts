/** A Kubernetes object reference inside the `kubernetes.io` claim: name and UID. */
export interface KubernetesObjectRef {
  /** Object name, e.g. the pod name. */
  name: string
  /** Object UID. */
  uid: string
}

/**
 * The private `kubernetes.io` claim of a projected service-account token (bound token, KEP-1205):
 * the namespace, the service account, and the pod, node or secret the token is bound to.
 */
export interface KubernetesClaims {
  /** Namespace of the service account. */
  namespace: string
  /** The service account the token was issued for. */
  serviceaccount: KubernetesObjectRef
  /** The pod the token is bound to (projected volumes). */
  pod?: KubernetesObjectRef
  /** The node the pod runs on (Kubernetes 1.30+). */
  node?: KubernetesObjectRef
  /** The secret the token is bound to (rare). */
  secret?: KubernetesObjectRef
  /**
   * Epoch seconds after which the API server warns about a token whose lifetime it extended
   * (`--service-account-extend-token-expiration`): the lifetime kubelet actually asked for.
   */
  warnafter?: number
}

/**
 * The claims of a service-account token, as decoded (not verified). Registered claims are typed
 * when present; any other claim is kept as `unknown`. Times are epoch **seconds** (JWT
 * NumericDate), as on the wire.
 */
export interface TokenClaims {
  /** Issuer: the cluster's service-account issuer URL. */
  iss?: string
  /** Subject, e.g. `system:serviceaccount:<namespace>:<name>`. */
  sub?: string
  /** Audience(s). */
  aud?: string | string[]
  /** Expiry, epoch seconds. */
  exp?: number
  /** Issued at, epoch seconds. */
  iat?: number
  /** Not before, epoch seconds. */
  nbf?: number
  /** Token id (Kubernetes 1.29+). */
  jti?: string
  /** Kubernetes-specific claims of bound tokens. */
  'kubernetes.io'?: KubernetesClaims
  /** Any other claim. */
  [claim: string]: unknown
}

/** The protected header of a token. */
export interface TokenHeader {
  /** Signing algorithm, e.g. `RS256` (Kubernetes' default) or `ES256`. */
  alg: string
  /** Key id: which key of the issuer's JWKS signed the token. */
  kid?: string
  /** Token type, e.g. `JWT`. */
  typ?: string
  /** Any other header parameter. */
  [parameter: string]: unknown
}

/** A decoded token: header and claims. */
export interface DecodedToken {
  /** The protected header. */
  header: TokenHeader
  /** The claims set. */
  claims: TokenClaims
}
