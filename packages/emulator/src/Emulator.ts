import type { Milliseconds } from '@podcreds/core'
import type { EmulatorAssociation } from './EmulatorOptions.js'
import type { EmulatorFaults } from './Faults.js'

/** Options of {@link Emulator.mintToken}: a projected service-account token, shaped like kubelet's. */
export interface MintTokenOptions {
  /** `aud`. @defaultValue `'sts.amazonaws.com'` (use `'pods.eks.amazonaws.com'` for Pod Identity) */
  audience?: string | readonly string[]
  /** The pod's namespace. @defaultValue the emulator's `namespace` */
  namespace?: string
  /** The pod's service account. @defaultValue the emulator's `serviceAccount` */
  serviceAccount?: string
  /** `sub`. @defaultValue `system:serviceaccount:<namespace>:<serviceAccount>` */
  subject?: string
  /** `iss`. @defaultValue the emulator's `issuerUrl` */
  issuer?: string
  /** Epoch milliseconds of `iat`/`nbf`. @defaultValue the emulator clock's now */
  issuedAt?: number
  /** Time from `iat` to `exp`, in milliseconds. @defaultValue the emulator's `tokenLifetimeMs` */
  lifetimeMs?: Milliseconds
  /** Extra or overriding claims, merged last. */
  claims?: Record<string, unknown>
  /** Sign with a key the issuer does not publish: a token whose signature never verifies. @defaultValue false */
  foreignKey?: boolean
}

/** Which projected token {@link Emulator.rotateToken} replaces. */
export type TokenKind = 'pod-identity' | 'irsa' | 'all'

/** Counters of a running emulator. */
export interface EmulatorStats {
  /** Requests that reached the Pod Identity agent (including failed and faulted ones). */
  agentRequests: number
  /** Requests that reached the STS endpoint. */
  stsRequests: number
  /** Requests that reached the AWS endpoint. */
  awsRequests: number
  /** Requests that reached the IMDSv2 stand-in. */
  imdsRequests: number
  /** Token requests that reached the Entra endpoint (faulted ones included). */
  entraRequests: number
  /** Credential sets issued by the agent and STS (a `sameCredentials` repeat is not counted). */
  credentialsIssued: number
  /** Token-volume rewrites (`..data` swaps) since start, the initial write excluded. */
  rotations: number
}

/** A running emulator, from {@link startEmulator}. */
export interface Emulator {
  /**
   * A pod with an EKS Pod Identity association: `AWS_CONTAINER_CREDENTIALS_FULL_URI`,
   * `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`, `AWS_REGION`, `AWS_DEFAULT_REGION`,
   * `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL_S3` (both local), `AWS_EC2_METADATA_SERVICE_ENDPOINT`
   * (the IMDS stand-in, {@link Emulator.imdsUrl}: a pod meets the node's IMDS, and no SDK run
   * against this record reaches 169.254.169.254) and `KUBERNETES_SERVICE_HOST`/`_PORT` (as in any
   * pod). A plain record: pass it as `env` or print it as `export` lines.
   */
  readonly env: Readonly<Record<string, string>>
  /**
   * A pod with IRSA: `AWS_ROLE_ARN`, `AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_REGION`,
   * `AWS_DEFAULT_REGION`, `AWS_STS_REGIONAL_ENDPOINTS`, `AWS_ENDPOINT_URL_STS`,
   * `AWS_ENDPOINT_URL_S3`, `AWS_EC2_METADATA_SERVICE_ENDPOINT` and `KUBERNETES_SERVICE_HOST`/`_PORT`.
   */
  readonly irsaEnv: Readonly<Record<string, string>>
  /**
   * A pod on AKS with Entra Workload ID: `AZURE_AUTHORITY_HOST` (the emulated Entra token
   * endpoint), `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and `AZURE_FEDERATED_TOKEN_FILE` (audience
   * `api://AzureADTokenExchange`), as the workload-identity webhook injects them.
   */
  readonly azureEnv: Readonly<Record<string, string>>
  /** Base URL of the emulated Entra token endpoint (`POST /<tenant>/oauth2/v2.0/token`). */
  readonly entraUrl: string
  /** Base URL of the Pod Identity agent; credentials at `<agentUrl>/v1/credentials`. */
  readonly agentUrl: string
  /** Base URL of STS (`AssumeRoleWithWebIdentity`, signed `GetCallerIdentity`). */
  readonly stsUrl: string
  /** The OIDC issuer (`iss` of every token), EKS-shaped: `http://127.0.0.1:<port>/id/<32 hex>`. */
  readonly issuerUrl: string
  /** The IAM OIDC provider ARN of the issuer, as IRSA trust policies name it. */
  readonly oidcProviderArn: string
  /** Base URL of the SigV4-verifying AWS endpoint (STS `GetCallerIdentity`, S3 `ListBuckets`). */
  readonly awsUrl: string
  /**
   * Base URL of the IMDSv2 stand-in: `PUT /latest/api/token`, then
   * `GET /latest/meta-data/iam/security-credentials/[<role>]` with the token (401 without one).
   */
  readonly imdsUrl: string
  /** The node's instance role that {@link Emulator.imdsUrl} serves. */
  readonly instanceRoleArn: string
  /** The projected-token volume (kubelet layout); removed by `close()`. */
  readonly tokenDir: string
  /** Paths of the two token files in {@link Emulator.tokenDir}. */
  readonly tokenFiles: {
    /** `<tokenDir>/eks-pod-identity-token` (audience `pods.eks.amazonaws.com`). */
    readonly podIdentity: string
    /** `<tokenDir>/token` (audience `sts.amazonaws.com`). */
    readonly irsa: string
    /** `<tokenDir>/azure-identity-token` (audience `api://AzureADTokenExchange`). */
    readonly azure: string
  }
  /** The Pod Identity associations in force (for printing: which service account gets which role). */
  readonly associations: readonly EmulatorAssociation[]
  /** The ARNs of the roles the emulator knows, association roles included. */
  readonly roleArns: readonly string[]
  /** The region in `env`/`irsaEnv` and the signing region. */
  readonly region: string
  /** The account id of the default roles. */
  readonly accountId: string
  /** The fault switchboard. */
  readonly faults: EmulatorFaults
  /** Signs a token with the issuer's key (or a foreign one): for tests of rejected tokens. */
  mintToken(options?: MintTokenOptions): Promise<string>
  /** Writes fresh tokens the way kubelet does (new timestamped dir, atomic `..data` swap). */
  rotateToken(which?: TokenKind): Promise<void>
  /** Counters since start. */
  stats(): EmulatorStats
  /** Stops every server and timer and removes {@link Emulator.tokenDir}; idempotent. */
  close(): Promise<void>
  /** Same as {@link Emulator.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>
}
