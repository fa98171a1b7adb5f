import type { Clock, Milliseconds, Random } from '@podcreds/core'
import type { TrustPolicy } from './TrustPolicy.js'

/** What a trust-policy function receives: the issuer is only known once the emulator listens. */
export interface TrustPolicyContext {
  /** The issuer URL, e.g. `http://127.0.0.1:41234/id/0123…`. */
  issuerUrl: string
  /** The issuer as IAM keys its conditions: without scheme (`127.0.0.1:41234/id/0123…`). */
  issuerHostPath: string
  /** `arn:aws:iam::<account>:oidc-provider/<issuerHostPath>`. */
  oidcProviderArn: string
  /** The role's account id. */
  accountId: string
}

/** An IAM role the emulator knows. */
export interface EmulatorRole {
  /** `arn:aws:iam::<12 digits>:role/<name>`. */
  arn: string
  /**
   * The role's trust policy, or a function building it from the issuer (which gets its port at
   * start). STS evaluates it for `AssumeRoleWithWebIdentity` and `AssumeRole`; the agent requires it to trust the
   * `pods.eks.amazonaws.com` service with `sts:AssumeRole` and `sts:TagSession`.
   */
  trustPolicy: TrustPolicy | ((context: TrustPolicyContext) => TrustPolicy)
}

/** An EKS Pod Identity association: pods of this service account get this role. */
export interface EmulatorAssociation {
  /** Kubernetes namespace. */
  namespace: string
  /** Service account name. */
  serviceAccount: string
  /**
   * The role. When it is not among `roles`, the emulator gives it the standard Pod Identity trust
   * policy.
   */
  roleArn: string
}

/** Options of {@link startEmulator}. */
export interface EmulatorOptions {
  /**
   * Lifetime of issued credentials, in milliseconds, for the agent and STS alike when given. Left
   * out, the agent serves 6 h sets (as EKS Auth issues them) and STS 1 h (its default
   * `DurationSeconds`). STS honours a request's `DurationSeconds` instead when one is sent.
   * @defaultValue agent 21_600_000 (6 h), STS 3_600_000 (1 h)
   */
  credentialLifetimeMs?: Milliseconds
  /**
   * The Pod Identity agent. `cache` (default `true`) behaves as the real agent
   * (aws/eks-pod-identity-agent `credsretriever/refreshing_cache.go`): the same token gets the same
   * credentials and `Expiration` until the agent renews them, `min(lifetime, 3 h)` after it fetched
   * them, and never a set with 15 s or less left. `cache: false` issues a fresh set per request.
   * @defaultValue `{ cache: true }`
   */
  agent?: {
    /** Whether the agent caches per token as the real one does. @defaultValue true */
    cache?: boolean
  }
  /**
   * The IMDSv2 stand-in (`imdsUrl`): the node's instance role, whose credentials a pod reaches
   * unless IMDS is blocked for pods.
   * @defaultValue `{ roleArn: 'arn:aws:iam::<accountId>:role/podcreds-demo-node' }`
   */
  imds?: {
    /** The node's instance role. @defaultValue `arn:aws:iam::<accountId>:role/podcreds-demo-node` */
    roleArn?: string
  }
  /** Lifetime of the projected tokens, in milliseconds. @defaultValue 86_400_000 (24 h, as EKS projects them) */
  tokenLifetimeMs?: Milliseconds
  /**
   * Token-volume rotation period, in milliseconds, on an unref'd timer of `clock`; `0` disables.
   * @defaultValue 80 % of `tokenLifetimeMs`, as kubelet rotates
   */
  rotateEveryMs?: Milliseconds
  /**
   * The roles. @defaultValue `arn:aws:iam::<accountId>:role/podcreds-demo` (Pod Identity trust) and
   * `arn:aws:iam::<accountId>:role/podcreds-demo-irsa` (IRSA trust with `StringEquals` on `:sub`
   * = `system:serviceaccount:<namespace>:<serviceAccount>` and `:aud` = `sts.amazonaws.com`), and
   * `arn:aws:iam::444455556666:role/podcreds-demo-cross-account`, which trusts both (`sts:AssumeRole`
   * for a cross-account hop)
   */
  roles?: readonly EmulatorRole[]
  /** The Pod Identity associations. @defaultValue `<namespace>/<serviceAccount>` → `…:role/podcreds-demo` */
  associations?: readonly EmulatorAssociation[]
  /**
   * Audiences (client ids) the IAM OIDC provider accepts; a token with none of them is
   * `InvalidIdentityToken` ("Incorrect token audience") before any trust policy is read.
   * @defaultValue `['sts.amazonaws.com']`
   */
  clientIds?: readonly string[]
  /** The pod's namespace (token claims, `env`, default association and IRSA trust). @defaultValue `'default'` */
  namespace?: string
  /** The pod's service account. @defaultValue `'app'` */
  serviceAccount?: string
  /** Account id of the default roles (12 digits). @defaultValue `'111122223333'` */
  accountId?: string
  /** Region in `env`/`irsaEnv`. @defaultValue `'us-east-1'` */
  region?: string
  /** Bucket names `ListBuckets` returns. @defaultValue `['podcreds-demo']` */
  buckets?: readonly string[]
  /**
   * Time and timers: token `iat`/`exp`, credential expiry, rotation, injected latency. Requests
   * signed by real SDK clients carry wall-clock dates; keep a fake clock within 15 minutes of them
   * or expect `RequestTimeTooSkewed`-style rejections.
   * @defaultValue systemClock
   */
  clock?: Clock
  /** Draws for fault `rate`/`throttle` fractions. @defaultValue systemRandom */
  random?: Random
}
